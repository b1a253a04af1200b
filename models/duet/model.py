"""The duet network: a partner for a lead dancer.

Three sequence VAEs read the recent past: VAE 1 the lead, VAE 2 the partner itself, VAE 3 the
relation between them (`relation`: the partner's root in the lead's heading frame, and its joints'
signed offsets from the lead's root there). Each is attention over a sliding window of frames, then
an LSTM, giving a latent per frame; each has a decoder (LSTM, then a temporal convolution that
smooths) that reconstructs its input, which keeps the latents meaningful. A causal transformer
decoder then makes the partner's next frame from its own past (plus VAE 2's latent), attending to
a memory of VAE 1's and VAE 3's latents.

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
from ..solo.model import rotary, rotate   # the same rotary positions as solo (float64 angles)

RELATION_FEATURES = 4 + 3 * skeleton.J     # root x z in the lead's frame, cos/sin of the yaw between, joints


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

def relation(lead: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """World positions (T, J, 3) of the two → (T, RELATION_FEATURES): where the partner is and how it
    is turned, seen from the lead (its root, its heading), and each partner joint's signed offset
    from the lead's root in that frame. Invariant to where the pair stands and which way it faces."""
    yaw = motion.heading(lead)
    root = lead[:, 0] * np.array([1.0, 0.0, 1.0])
    seen = motion._rotate_y(partner - root[:, None], -yaw[:, None])            # (T, J, 3)
    turn = motion._wrap(motion.heading(partner) - yaw)
    T = len(lead)
    return np.concatenate([seen[:, 0, [0, 2]], np.cos(turn)[:, None], np.sin(turn)[:, None],
                           seen.reshape(T, -1)], axis=1).astype(np.float32)


def place(relation_frame: np.ndarray, lead: np.ndarray) -> tuple[float, float, float]:
    """Where a relation frame puts the partner's root (x, z) and heading, given the lead's pose (J, 3)."""
    yaw = float(motion.heading(lead[None])[0])
    x, z = relation_frame[0], relation_frame[1]
    c, s = np.cos(yaw), np.sin(yaw)
    return (float(lead[0, 0] + c * x + s * z), float(lead[0, 2] - s * x + c * z),
            float(yaw + np.arctan2(relation_frame[3], relation_frame[2])))


# ---- attention over a sliding window ------------------------------------------------------------

def band(T: int, window: int, device) -> torch.Tensor:
    """(T, T) True where query t may see key u: u ≤ t and t − u < window."""
    i = torch.arange(T, device=device)
    d = i[:, None] - i[None, :]
    return (d >= 0) & (d < window)


@dataclass
class Cache:
    """The last `window` keys and values an attention has seen, already rotated."""
    keys: torch.Tensor | None = None
    values: torch.Tensor | None = None

    def add(self, k: torch.Tensor, v: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
        self.keys = k if self.keys is None else torch.cat([self.keys, k], dim=2)[:, :, -window:]
        self.values = v if self.values is None else torch.cat([self.values, v], dim=2)[:, :, -window:]
        return self.keys, self.values


class Attention(nn.Module):
    """Multi-head attention of queries over keys from `source` (itself, or a memory), each query
    seeing the keys of its own frame and the `window` − 1 before."""

    def __init__(self, c: DuetConfig):
        super().__init__()
        self.h, self.window, self.dropout = c.n_heads, c.window, c.dropout
        self.q = nn.Linear(c.d_model, c.d_model)
        self.kv = nn.Linear(c.d_model, 2 * c.d_model)
        self.out = nn.Linear(c.d_model, c.d_model)

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

    def step(self, x: torch.Tensor, source: torch.Tensor, angle: torch.Tensor, cache: Cache) -> torch.Tensor:
        """One frame (B, 1, d) against its source frame (B, 1, d), with the cache of earlier ones."""
        q = rotate(self._heads(self.q(x)), angle)
        k, v = self.kv(source).chunk(2, dim=-1)
        keys, values = cache.add(rotate(self._heads(k), angle), self._heads(v), self.window)
        y = F.scaled_dot_product_attention(q, keys, values)
        return self.out(y.transpose(1, 2).flatten(-2))


# ---- the sequence VAE ---------------------------------------------------------------------------

@dataclass
class VaeState:
    cache: Cache
    lstm: tuple[torch.Tensor, torch.Tensor] | None = None


class SequenceVAE(nn.Module):
    """Frames (B, T, n) → a latent per frame (its mean and log-variance), from attention over the
    last `window` frames and an LSTM over all of them; and back (a reconstruction of the frames)."""

    def __init__(self, n: int, c: DuetConfig):
        super().__init__()
        d = c.d_model
        self.head_dim = d // c.n_heads
        self.embed = nn.Linear(n, d)
        self.norm = nn.LayerNorm(d)
        self.attention = Attention(c)
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.posterior = nn.Linear(d, 2 * c.latent)
        self.unlatent = nn.Linear(c.latent, d)
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

    def step(self, x: torch.Tensor, angle: torch.Tensor, state: VaeState) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.embed(x)
        n = self.norm(h)
        h = h + self.attention.step(n, n, angle, state.cache)
        h, state.lstm = self.lstm(h, state.lstm)
        mu, logvar = self.posterior(h).chunk(2, dim=-1)
        return mu, logvar.clamp(-8, 8)


def sample(mu: torch.Tensor, logvar: torch.Tensor, scale: float | torch.Tensor = 1.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """The reparameterised latent: its mean, plus `scale` times its spread of noise."""
    noise = torch.randn(mu.shape, generator=generator).to(mu.device) if generator else torch.randn_like(mu)
    return mu + scale * (0.5 * logvar).exp() * noise


def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL to N(0, I), summed over the latent, averaged over frames and batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)).mean()


# ---- the partner decoder ------------------------------------------------------------------------

class DecoderLayer(nn.Module):
    def __init__(self, c: DuetConfig):
        super().__init__()
        d = c.d_model
        self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.itself, self.memory = Attention(c), Attention(c)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d), nn.Dropout(c.dropout))

    def forward(self, x, memory, angles):
        n = self.n1(x)
        x = x + self.itself(n, n, angles)
        x = x + self.memory(self.n2(x), memory, angles)
        return x + self.mlp(self.n3(x))

    def step(self, x, memory, angle, caches: tuple[Cache, Cache]):
        n = self.n1(x)
        x = x + self.itself.step(n, n, angle, caches[0])
        x = x + self.memory.step(self.n2(x), memory, angle, caches[1])
        return x + self.mlp(self.n3(x))


@dataclass
class DuetOutput:
    next: torch.Tensor                         # (B, T, n_features): the partner's next frames, normalised
    latents: dict                              # name → (mu, logvar)
    reconstructions: dict                      # name → (B, T, n)


@dataclass
class DuetState:
    """Everything a live pair carries between frames."""
    lead: VaeState
    partner: VaeState
    relation: VaeState
    decoder: list
    frame: int = 0


class DuetModel(nn.Module):
    def __init__(self, config: DuetConfig):
        super().__init__()
        config.check()
        self.config = c = config
        self.lead_vae = SequenceVAE(c.n_features, c)          # VAE 1
        self.partner_vae = SequenceVAE(c.n_features, c)       # VAE 2
        self.relation_vae = SequenceVAE(c.n_relation, c)      # VAE 3
        self.memory = nn.Linear(2 * c.latent, c.d_model)
        self.embed = nn.Linear(c.n_features + c.latent, c.d_model)
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.layers))
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.n_features)
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
        out = partner + self.head(self.norm(h))
        recon = {}
        if reconstruct:
            recon = {"lead": self.lead_vae.decode(z["lead"]), "partner": self.partner_vae.decode(z["partner"]),
                     "relation": self.relation_vae.decode(z["relation"])}
        return DuetOutput(out, latents, recon)

    def reconstruct_dancers(self, lead: torch.Tensor, partner: torch.Tensor) -> DuetOutput:
        """Only the single-dancer VAEs: each reconstructs its own dancer (the training's p-branch)."""
        angles = self._angles(lead.shape[1], 0, lead.device)
        latents = {"lead": self.lead_vae.encode(lead, angles), "partner": self.partner_vae.encode(partner, angles)}
        recon = {k: (self.lead_vae if k == "lead" else self.partner_vae).decode(sample(*v)) for k, v in latents.items()}
        return DuetOutput(partner, latents, recon)

    # ---- live ----

    def start(self) -> DuetState:
        return DuetState(VaeState(Cache()), VaeState(Cache()), VaeState(Cache()),
                         [(Cache(), Cache()) for _ in self.layers])

    def step(self, lead: torch.Tensor, partner: torch.Tensor, rel: torch.Tensor, state: DuetState,
             noise: float | torch.Tensor = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """One frame for every pair (B, 1, ·) → the partner's next frame (B, 1, n_features); `noise`
        scales the latents' sampled spread (0: their means), per pair as a (B, 1, 1) tensor."""
        angle = self._angles(1, state.frame, lead.device)
        z_lead = sample(*self.lead_vae.step(lead, angle, state.lead), noise, generator)
        z_partner = sample(*self.partner_vae.step(partner, angle, state.partner), noise, generator)
        z_rel = sample(*self.relation_vae.step(rel, angle, state.relation), noise, generator)
        memory = self.memory(torch.cat([z_lead, z_rel], dim=-1))
        h = self.embed(torch.cat([partner, z_partner], dim=-1))
        for layer, caches in zip(self.layers, state.decoder):
            h = layer.step(h, memory, angle, caches)
        state.frame += 1
        return partner + self.head(self.norm(h))
