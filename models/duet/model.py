"""The duet network: a partner for a lead dancer.

Three sequence VAEs read the recent past: VAE 1 the lead, VAE 2 the partner itself, VAE 3 the
relation between them (`relation`: the partner's root in the lead's heading frame, and its joints'
signed offsets from the lead's root there). Each is attention over a sliding window of frames, then
an LSTM, giving a latent per frame; each has a decoder (LSTM, then a temporal convolution that
smooths) that reconstructs its input, which keeps the latents meaningful. A causal transformer
decoder then makes the partner's next frame from its own past (plus VAE 2's latent), attending to
a memory of VAE 1's and VAE 3's latents; and, from the same state, where the partner will stand
next relative to its lead (`placement`: the first PLACEMENT features of the next relation), which
anchors it live: a position integrated from predicted steps wanders, a predicted relation does not.

The seed's mistakes (duet-and-video-seed-study.md, A.8) are not repeated: positions along time
(rotary, relative, so a sliding window needs no renumbering), batch-first attention with a causal
band mask, time and channels permuted (not reshaped) around the convolution, and targets
normalised like the inputs.

Every part runs two ways that agree: `forward` over whole sequences (training), and `step`, one
frame at a time with rolling caches (LSTM state, the last `window` keys and values), so a live step
costs the same at the tenth minute as at the first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import motion, skeleton
from ..solo.model import (GELU, Dropout, LayerNorm, Linear,   # modules called without looking for hooks
                          Sequential, rotary, rotate)  # the same rotary positions as solo (float64 angles)

RELATION_FEATURES = 4 + 3 * skeleton.J     # root x z in the lead's frame, cos/sin of the yaw between, joints
PLACEMENT = 4                              # of those, the ones that say where the partner stands


@dataclass
class DuetConfig:
    n_features: int = motion.n_features()     # one dancer's frame (models.motion)
    n_relation: int = RELATION_FEATURES
    d_model: int = 96
    n_heads: int = 4
    latent: int = 24
    window: int = 48                          # frames each attention sees (1.6 s at 30 fps)
    layers: int = 2                           # transformer decoder layers
    dropout: float = 0.1

    def check(self) -> None:
        def need(ok: bool, text: str) -> None:
            if not ok:
                raise ValueError(f"duet config: {text}")
        need(self.d_model % self.n_heads == 0 and (self.d_model // self.n_heads) % 2 == 0,
             "d_model must split into n_heads heads of an even size")
        need(self.window >= 2 and self.layers >= 1 and self.latent >= 1, "window ≥ 2, layers ≥ 1, latent ≥ 1")
        need(0 <= self.dropout < 1, "dropout in [0, 1)")


# ---- features -----------------------------------------------------------------------------------

def relation(lead: np.ndarray, partner: np.ndarray, yaws: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """World positions (T, J, 3) of the two (and their headings, if the caller has them) →
    (T, RELATION_FEATURES): where the partner is and how it is turned, seen from the lead (its root,
    its heading), and each partner joint's signed offset from the lead's root in that frame.
    Invariant to where the pair stands and which way it faces."""
    yaw, partner_yaw = yaws if yaws is not None else (motion.heading(lead), motion.heading(partner))
    root = lead[:, 0] * np.array([1.0, 0.0, 1.0])
    seen = motion._rotate_y(partner - root[:, None], -yaw[:, None])            # (T, J, 3)
    turn = motion.wrap_angle(partner_yaw - yaw)
    T = len(lead)
    return np.concatenate([seen[:, 0, [0, 2]], np.cos(turn)[:, None], np.sin(turn)[:, None],
                           seen.reshape(T, -1)], axis=1).astype(np.float32)


def place(relation_frame: np.ndarray, lead: np.ndarray, yaw: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where relation frames (..., ≥ PLACEMENT) put the partner's root (x, z) and heading, given the
    lead's poses (..., J, 3) (and headings); each of the three (...)."""
    yaw = motion.heading(lead) if yaw is None else yaw
    x, z = relation_frame[..., 0], relation_frame[..., 1]
    c, s = np.cos(yaw), np.sin(yaw)
    return (lead[..., 0, 0] + c * x + s * z, lead[..., 0, 2] - s * x + c * z,
            yaw + np.arctan2(relation_frame[..., 3], relation_frame[..., 2]))


# ---- attention over a sliding window ------------------------------------------------------------

def band(T: int, window: int, device) -> torch.Tensor:
    """(T, T) True where query t may see key u: u ≤ t and t − u < window."""
    i = torch.arange(T, device=device)
    d = i[:, None] - i[None, :]
    return (d >= 0) & (d < window)


class Ring:
    """The last `window` keys and values an attention has seen (already rotated), in a fixed buffer
    written round and round: the n-th frame lives in slot n mod window. Attention does not care in
    which order its keys lie (each carries its position in its rotation), so nothing is ever
    shifted or copied, and a step costs the same at the tenth minute as at the first."""

    def __init__(self, rows: int, heads: int, head_dim: int, window: int, device):
        self.keys = torch.zeros(rows, heads, window, head_dim, device=device)
        self.values = torch.zeros_like(self.keys)
        self.seen = 0

    def add(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame's keys and values (rows, heads, 1, head_dim) → all the window's."""
        window = self.keys.shape[2]
        slot = self.seen % window
        self.keys[:, :, slot:slot + 1] = k
        self.values[:, :, slot:slot + 1] = v
        self.seen += 1
        if self.seen >= window:
            return self.keys, self.values
        return self.keys[:, :, :self.seen], self.values[:, :, :self.seen]


def frame_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """One frame's queries, keys or values (..., d) → (rows, heads, 1, d / heads), as a ring holds them."""
    return x.reshape(-1, heads, 1, x.shape[-1] // heads)


class Attention(nn.Module):
    """Multi-head attention of queries over keys from `source` (itself, or a memory), each query
    seeing the keys of its own frame and the `window` − 1 before."""

    def __init__(self, c: DuetConfig):
        super().__init__()
        self.h, self.window, self.dropout = c.n_heads, c.window, c.dropout
        self.q = Linear(c.d_model, c.d_model)
        self.kv = Linear(c.d_model, 2 * c.d_model)
        self.out = Linear(c.d_model, c.d_model)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.h, -1)).transpose(1, 2)            # (B, H, T, D)

    def forward(self, x: torch.Tensor, source: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        q = rotate(self._heads(self.q(x)), angles)
        k, v = self.kv(source).chunk(2, dim=-1)
        k, v = rotate(self._heads(k), angles), self._heads(v)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=band(T, self.window, x.device),
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).flatten(-2))


# ---- the sequence VAE ---------------------------------------------------------------------------

class SequenceVAE(nn.Module):
    """Frames (B, T, n) → a latent per frame (its mean and log-variance), from attention over the
    last `window` frames and an LSTM over all of them; and back (a reconstruction of the frames)."""

    def __init__(self, n: int, c: DuetConfig):
        super().__init__()
        d = c.d_model
        self.embed = Linear(n, d)
        self.norm = LayerNorm(d)
        self.attention = Attention(c)
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.posterior = Linear(d, 2 * c.latent)
        self.unlatent = Linear(c.latent, d)
        self.decoder = nn.LSTM(d, d, batch_first=True)
        self.smooth = nn.Conv1d(d, n, kernel_size=3)        # causal: padded on the left only

    def encode(self, x: torch.Tensor, angles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.embed(x)
        n = self.norm(h)
        h = h + self.attention(n, n, angles)
        h, _ = self.lstm(h)
        mu, logvar = self.posterior(h).chunk(2, dim=-1)
        return mu, logvar.clamp(-8, 8)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h, _ = self.decoder(F.relu(self.unlatent(z)))
        h = F.pad(h.permute(0, 2, 1), (2, 0))             # (B, d, T): time and channels permuted, not reshaped
        return self.smooth(h).permute(0, 2, 1)


def sample(mu: torch.Tensor, logvar: torch.Tensor, scale: float | torch.Tensor = 1.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """The reparameterised latent: its mean, plus `scale` times its spread of noise."""
    noise = torch.randn(mu.shape, generator=generator).to(mu.device) if generator else torch.randn_like(mu)
    return mu + scale * (0.5 * logvar).exp() * noise


def _per_row(noise: float | torch.Tensor) -> float | torch.Tensor:
    """A noise scale per pair (B, 1, 1) as a latent (·, B, latent) takes it, (B, 1); one for all as it is."""
    return noise[:, 0] if torch.is_tensor(noise) else noise


def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL to N(0, I), summed over the latent, averaged over frames and batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)).mean()


# ---- the partner decoder ------------------------------------------------------------------------

class DecoderLayer(nn.Module):
    def __init__(self, c: DuetConfig):
        super().__init__()
        d = c.d_model
        self.n1, self.n2, self.n3 = LayerNorm(d), LayerNorm(d), LayerNorm(d)
        self.itself, self.memory = Attention(c), Attention(c)
        self.mlp = Sequential(Linear(d, 4 * d), GELU(), Linear(4 * d, d), Dropout(c.dropout))

    def forward(self, x, memory, angles):
        n = self.n1(x)
        x = x + self.itself(n, n, angles)
        x = x + self.memory(self.n2(x), memory, angles)
        return x + self.mlp(self.n3(x))


@dataclass
class DuetOutput:
    next: torch.Tensor                         # (B, T, n_features): the partner's next frames, normalised
    placement: torch.Tensor | None             # (B, T, PLACEMENT): the next relation's placement, normalised
    latents: dict                              # name → (mu, logvar)
    reconstructions: dict                      # name → (B, T, n)


class Encoders:
    """VAE encoders stepped together, a frame at a time: their weights stacked (as they are when a
    live run starts) so that each operation runs once for all of them. At one frame a step is a few
    dozen tiny operations whose count, not their arithmetic, is its cost."""

    def __init__(self, vaes: list[SequenceVAE], c: DuetConfig, rows: int, device):
        def stacked(get, transpose: bool = False) -> torch.Tensor:
            w = torch.stack([get(v).detach() for v in vaes])
            return w.transpose(-1, -2).contiguous() if transpose else w.unsqueeze(1)
        self.embed = [(v.embed.weight.detach(), v.embed.bias.detach()) for v in vaes]
        self.norm_w, self.norm_b = stacked(lambda v: v.norm.weight), stacked(lambda v: v.norm.bias)
        a = lambda v: v.attention
        self.qkv_w = stacked(lambda v: torch.cat([a(v).q.weight, a(v).kv.weight]), True)      # (V, d, 3d)
        self.qkv_b = stacked(lambda v: torch.cat([a(v).q.bias, a(v).kv.bias]))
        self.out_w, self.out_b = stacked(lambda v: a(v).out.weight, True), stacked(lambda v: a(v).out.bias)
        self.ih_w, self.hh_w = stacked(lambda v: v.lstm.weight_ih_l0, True), stacked(lambda v: v.lstm.weight_hh_l0, True)
        self.lstm_b = stacked(lambda v: v.lstm.bias_ih_l0 + v.lstm.bias_hh_l0)
        self.post_w, self.post_b = stacked(lambda v: v.posterior.weight, True), stacked(lambda v: v.posterior.bias)
        self.d, self.heads = c.d_model, c.n_heads
        self.ring = Ring(len(vaes) * rows, c.n_heads, c.d_model // c.n_heads, c.window, device)
        self.h = torch.zeros(len(vaes), rows, c.d_model, device=device)                   # the LSTMs' state
        self.c = torch.zeros_like(self.h)

    def step(self, frames: list[torch.Tensor], angle: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each VAE's frame (B, n) → the latents' means and log-variances (V, B, latent): what
        SequenceVAE.encode gives at the newest frame."""
        h = torch.stack([F.linear(x, w, b) for x, (w, b) in zip(frames, self.embed)])     # (V, B, d)
        n = torch.addcmul(self.norm_b, F.layer_norm(h, (self.d,)), self.norm_w)
        q, k, v = torch.baddbmm(self.qkv_b, n, self.qkv_w).split(self.d, dim=-1)
        keys, values = self.ring.add(rotate(frame_heads(k, self.heads), angle), frame_heads(v, self.heads))
        q = rotate(frame_heads(q, self.heads), angle)
        y = F.scaled_dot_product_attention(q, keys, values).reshape(h.shape)
        h = h + torch.baddbmm(self.out_b, y, self.out_w)
        # the LSTM cell, PyTorch's gate order (input, forget, cell, output)
        i, f, g, o = torch.baddbmm(self.lstm_b, h, self.ih_w).baddbmm_(self.h, self.hh_w).chunk(4, dim=-1)
        self.c = torch.sigmoid(f) * self.c + torch.sigmoid(i) * torch.tanh(g)
        self.h = torch.sigmoid(o) * torch.tanh(self.c)
        mu, logvar = torch.baddbmm(self.post_b, self.h, self.post_w).chunk(2, dim=-1)
        return mu, logvar.clamp(-8, 8)


@dataclass
class Prepared:
    """What a live step needs from the partner's own past, made before its lead's frame arrives."""
    partner: torch.Tensor                  # (B, n_features): the partner's frame
    rel: torch.Tensor                      # (B, n_relation)
    z_rel: torch.Tensor                    # (B, latent)
    h: torch.Tensor                        # (B, d): through the first layer's attention over the partner itself
    angle: torch.Tensor


@dataclass
class DuetState:
    """Everything live pairs carry between frames."""
    lead: Encoders                         # VAE 1, stepped once the lead's frame is there
    own: Encoders                          # VAEs 2 and 3, the partner and the relation: known a frame ahead
    rings: list[tuple[Ring, Ring]]         # each decoder layer's: over the partner itself, over the memory
    frame: int = 0
    prepared: Prepared | None = None


class DuetModel(nn.Module):
    def __init__(self, config: DuetConfig):
        super().__init__()
        config.check()
        self.config = c = config
        self.lead_vae = SequenceVAE(c.n_features, c)          # VAE 1
        self.partner_vae = SequenceVAE(c.n_features, c)       # VAE 2
        self.relation_vae = SequenceVAE(c.n_relation, c)      # VAE 3
        self.memory = Linear(2 * c.latent, c.d_model)
        self.embed = Linear(c.n_features + c.latent, c.d_model)
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.layers))
        self.norm = LayerNorm(c.d_model)
        self.head = Linear(c.d_model, c.n_features)
        self.place = Linear(c.d_model, PLACEMENT)
        nn.init.zeros_(self.head.weight)                      # start by predicting "as the last frame"
        nn.init.zeros_(self.head.bias)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _angles(self, T: int, start: int, device) -> torch.Tensor:
        return rotary(np.arange(start, start + T), self.config.d_model // self.config.n_heads, device)

    def forward(self, lead: torch.Tensor, partner: torch.Tensor, rel: torch.Tensor, noise: float = 1.0,
                reconstruct: bool = True) -> DuetOutput:
        """Aligned sequences (B, T, ·): frame t of `lead` is the lead as the partner's frame t+1 is
        made (what a live partner sees of its human when it moves), of `partner` and `rel` the partner
        and the relation at t. Returns the partner's frame t+1 for every t, as a change from frame t
        (so an untrained model holds still rather than jumping)."""
        angles = self._angles(lead.shape[1], 0, lead.device)
        latents = {"lead": self.lead_vae.encode(lead, angles), "partner": self.partner_vae.encode(partner, angles),
                   "relation": self.relation_vae.encode(rel, angles)}
        z = {k: sample(*v, noise) if self.training or noise else v[0] for k, v in latents.items()}
        memory = self.memory(torch.cat([z["lead"], z["relation"]], dim=-1))
        h = self.embed(torch.cat([partner, z["partner"]], dim=-1))
        for layer in self.layers:
            h = layer(h, memory, angles)
        h = self.norm(h)
        out, placement = partner + self.head(h), rel[..., :PLACEMENT] + self.place(h)
        recon = {}
        if reconstruct:
            recon = {"lead": self.lead_vae.decode(z["lead"]), "partner": self.partner_vae.decode(z["partner"]),
                     "relation": self.relation_vae.decode(z["relation"])}
        return DuetOutput(out, placement, latents, recon)

    def reconstruct_dancers(self, lead: torch.Tensor, partner: torch.Tensor) -> DuetOutput:
        """Only the single-dancer VAEs: each reconstructs its own dancer (the training's p-branch)."""
        angles = self._angles(lead.shape[1], 0, lead.device)
        latents = {"lead": self.lead_vae.encode(lead, angles), "partner": self.partner_vae.encode(partner, angles)}
        recon = {k: (self.lead_vae if k == "lead" else self.partner_vae).decode(sample(*v)) for k, v in latents.items()}
        return DuetOutput(partner, None, latents, recon)

    # ---- live ----

    def start(self, pairs: int = 1) -> DuetState:
        """A live run's state for `pairs` pairs, with the weights as they are now."""
        c, device = self.config, next(self.parameters()).device
        ring = lambda: Ring(pairs, c.n_heads, c.d_model // c.n_heads, c.window, device)
        return DuetState(Encoders([self.lead_vae], c, pairs, device),
                         Encoders([self.partner_vae, self.relation_vae], c, pairs, device),
                         [(ring(), ring()) for _ in self.layers])

    def _attend(self, a: Attention, query: torch.Tensor, source: torch.Tensor, ring: Ring, angle) -> torch.Tensor:
        """One frame of attention (B, d) from `query` over the ring, `source`'s key and value added."""
        k, v = a.kv(source).chunk(2, dim=-1)
        h = self.config.n_heads
        keys, values = ring.add(rotate(frame_heads(k, h), angle), frame_heads(v, h))
        y = F.scaled_dot_product_attention(rotate(frame_heads(a.q(query), h), angle), keys, values)
        return a.out(y.reshape(query.shape))

    def prepare(self, partner: torch.Tensor, rel: torch.Tensor, state: DuetState, noise: float | torch.Tensor = 0.0,
                generator: torch.Generator | None = None) -> None:
        """The part of the next step that the lead's next frame does not change: the partner's frame
        and its relation to the lead (B, 1, ·) through their VAEs, and the first decoder layer's
        attention over the partner's own past. Live it runs once a frame has gone out, so the step
        that waits on a new lead frame is shorter."""
        angle = self._angles(1, state.frame, partner.device)
        mu, logvar = state.own.step([partner[:, 0], rel[:, 0]], angle)
        z_partner, z_rel = sample(mu, logvar, _per_row(noise), generator)
        h = self.embed(torch.cat([partner[:, 0], z_partner], dim=-1))
        layer = self.layers[0]
        n = layer.n1(h)
        h = h + self._attend(layer.itself, n, n, state.rings[0][0], angle)
        state.prepared = Prepared(partner[:, 0], rel[:, 0], z_rel, h, angle)

    def step(self, lead: torch.Tensor, partner: torch.Tensor | None, rel: torch.Tensor | None, state: DuetState,
             noise: float | torch.Tensor = 0.0, generator: torch.Generator | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame for every pair (B, 1, ·) → the partner's next frame (B, 1, n_features) and its
        placement (B, 1, PLACEMENT), as `forward` makes them at the newest frame; `noise` scales the
        latents' sampled spread (0: their means), per pair as a (B, 1, 1) tensor. `partner` and
        `rel` may be None when `prepare` has had them."""
        if state.prepared is None:
            self.prepare(partner, rel, state, noise, generator)
        ready, state.prepared = state.prepared, None
        mu, logvar = state.lead.step([lead[:, 0]], ready.angle)
        z_lead = sample(mu, logvar, _per_row(noise), generator)[0]
        memory = self.memory(torch.cat([z_lead, ready.z_rel], dim=-1))
        h = ready.h
        for i, (layer, (itself, remembered)) in enumerate(zip(self.layers, state.rings)):
            if i:
                n = layer.n1(h)
                h = h + self._attend(layer.itself, n, n, itself, ready.angle)
            h = h + self._attend(layer.memory, layer.n2(h), memory, remembered, ready.angle)
            h = h + layer.mlp(layer.n3(h))
        state.frame += 1
        h = self.norm(h)
        return (ready.partner + self.head(h))[:, None], (ready.rel[:, :PLACEMENT] + self.place(h))[:, None]
