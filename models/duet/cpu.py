"""The duet network's live step in NumPy: `DuetModel.start`, `prepare` and `step`, for a CPU.

As with the solo model (models/solo/cpu.py), a live step is a few hundred operations on a few
hundred numbers each: three VAE encoders (attention over a ring of keys, an LSTM cell) and a
two-layer decoder. In PyTorch each operation costs microseconds of dispatch whatever its size, and
that, not the arithmetic, is most of the step (`bench duet`: network step, torch vs NumPy). So on a
CPU the live partner steps through this copy of the weights; `DuetModel`'s step stays the
reference (and the path on a GPU), and the two agree to float32 rounding (tests/test_duet_cpu.py).
The latents' noise is drawn from the same torch generator, in the same order, so a seeded partner
dances the same either way. The weights are copied when this is made: it is for a trained model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..solo.cpu import apply, attend, layer_norm, linear, norm, rotary_turn, weights_of
from ..solo.model import frequencies
from .model import PLACEMENT, Attention, DuetModel, SequenceVAE, _per_row


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))             # no overflow, one ufunc fewer than 1 / (1 + e^-x)


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU the decoder uses, with erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26)."""
    z = np.abs(x) * (1.0 / math.sqrt(2.0))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * x * (1.0 + np.copysign(erf, x))


class Ring:
    """models.duet.model.Ring, in NumPy: the last `window` keys and values, slot n mod window."""

    def __init__(self, rows: int, heads: int, head_dim: int, window: int):
        self.keys = np.zeros((rows, heads, window, head_dim), dtype=np.float32)
        self.values = np.zeros_like(self.keys)
        self.seen = 0

    def add(self, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame's keys and values (rows, heads, head_dim) → all the window's."""
        window = self.keys.shape[2]
        slot = self.seen % window
        self.keys[:, :, slot], self.values[:, :, slot] = k, v
        self.seen += 1
        n = min(self.seen, window)
        return self.keys[:, :, :n], self.values[:, :, :n]


class Encoders:
    """models.duet.model.Encoders in NumPy: VAE encoders stepped together, their weights stacked."""

    def __init__(self, vaes: list[SequenceVAE], heads: int, window: int, rows: int):
        def stacked(get) -> np.ndarray:
            return np.stack([weights_of(get(v)) for v in vaes])
        self.embed = [linear(v.embed) for v in vaes]
        self.norm = stacked(lambda v: v.norm.weight)[:, None], stacked(lambda v: v.norm.bias)[:, None]
        a = lambda v: v.attention                                             # noqa: E731
        self.qkv = (stacked(lambda v: torch.cat([a(v).q.weight, a(v).kv.weight]).T),
                    stacked(lambda v: torch.cat([a(v).q.bias, a(v).kv.bias]))[:, None])
        self.out = stacked(lambda v: a(v).out.weight.T), stacked(lambda v: a(v).out.bias)[:, None]
        self.ih, self.hh = stacked(lambda v: v.lstm.weight_ih_l0.T), stacked(lambda v: v.lstm.weight_hh_l0.T)
        self.lstm_b = stacked(lambda v: v.lstm.bias_ih_l0 + v.lstm.bias_hh_l0)[:, None]
        self.post = stacked(lambda v: v.posterior.weight.T), stacked(lambda v: v.posterior.bias)[:, None]
        d = self.embed[0][0].shape[1]
        self.d, self.heads = d, heads
        self.ring = Ring(len(vaes) * rows, heads, d // heads, window)
        self.h = np.zeros((len(vaes), rows, d), dtype=np.float32)               # the LSTMs' state
        self.c = np.zeros_like(self.h)

    def step(self, frames: list[np.ndarray], turn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each VAE's frame (B, n) → the latents' means and log-variances (V, B, latent)."""
        V, B, d, H = len(frames), len(frames[0]), self.d, self.heads
        h = np.stack([apply(x, layer) for x, layer in zip(frames, self.embed)])     # (V, B, d)
        n = layer_norm(h, *self.norm)
        qkv = (n @ self.qkv[0] + self.qkv[1]).reshape(V * B, 3, H, -1)
        qk = qkv[:, :2] @ turn
        keys, values = self.ring.add(qk[:, 1], qkv[:, 2])
        y = attend(qk[:, 0], keys, values).reshape(V, B, d)
        h = h + y @ self.out[0] + self.out[1]
        i, f, g, o = np.split(h @ self.ih + self.lstm_b + self.h @ self.hh, 4, axis=-1)   # PyTorch's gate order
        self.c = _sigmoid(f) * self.c + _sigmoid(i) * np.tanh(g)
        self.h = _sigmoid(o) * np.tanh(self.c)
        mu, logvar = np.split(self.h @ self.post[0] + self.post[1], 2, axis=-1)
        return mu, np.clip(logvar, -8.0, 8.0)


@dataclass
class Prepared:
    partner: np.ndarray
    rel: np.ndarray
    z_rel: np.ndarray
    h: np.ndarray
    turn: np.ndarray


@dataclass
class CpuState:
    lead: Encoders
    own: Encoders
    rings: list[tuple[Ring, Ring]]
    frame: int = 0
    prepared: Prepared | None = None


class CpuDuet:
    """`DuetModel`'s live steps for a trained model on a CPU: the same calls, the same numbers."""

    def __init__(self, model: DuetModel):
        self.model, c = model, model.config
        self.heads, self.head_dim, self.window = c.n_heads, c.d_model // c.n_heads, c.window
        self.memory, self.embed = linear(model.memory), linear(model.embed)
        self.layers = [dict(n1=norm(l.n1), n2=norm(l.n2), n3=norm(l.n3), itself=self._attention(l.itself),
                            memory=self._attention(l.memory), fc=linear(l.mlp[0]), out=linear(l.mlp[2]))
                       for l in model.layers]
        self.norm = norm(model.norm)
        self.head, self.place = linear(model.head), linear(model.place)
        self.frequencies = frequencies(self.head_dim)

    @staticmethod
    def _attention(a: Attention) -> dict:
        return dict(q=linear(a.q), kv=linear(a.kv), out=linear(a.out))

    def start(self, pairs: int = 1) -> CpuState:
        m, H, D, W = self.model, self.heads, self.head_dim, self.window
        return CpuState(Encoders([m.lead_vae], H, W, pairs), Encoders([m.partner_vae, m.relation_vae], H, W, pairs),
                        [(Ring(pairs, H, D, W), Ring(pairs, H, D, W)) for _ in self.layers])

    def _attend(self, a: dict, query: np.ndarray, source: np.ndarray, ring: Ring, turn: np.ndarray) -> np.ndarray:
        B, H = len(query), self.heads
        k, v = np.split(apply(source, a["kv"]), 2, axis=-1)
        keys, values = ring.add(k.reshape(B, H, -1) @ turn, v.reshape(B, H, -1))
        q = apply(query, a["q"]).reshape(B, H, -1) @ turn
        return apply(attend(q, keys, values).reshape(B, -1), a["out"])

    @staticmethod
    def _sample(mu: np.ndarray, logvar: np.ndarray, noise, generator: torch.Generator | None) -> np.ndarray:
        """models.duet.model.sample, drawing the same numbers from the same generator."""
        drawn = (torch.randn(mu.shape, generator=generator) if generator else torch.randn(mu.shape)).numpy()
        scale = _per_row(noise)
        scale = scale.cpu().numpy() if torch.is_tensor(scale) else scale
        return mu + scale * np.exp(0.5 * logvar) * drawn

    def prepare(self, partner: torch.Tensor, rel: torch.Tensor, state: CpuState, noise=0.0,
                generator: torch.Generator | None = None) -> None:
        turn = rotary_turn(state.frame * self.frequencies)
        p, r = partner[:, 0].cpu().numpy(), rel[:, 0].cpu().numpy()
        z_partner, z_rel = self._sample(*state.own.step([p, r], turn), noise, generator)
        h = apply(np.concatenate([p, z_partner], -1), self.embed)
        layer = self.layers[0]
        n = layer_norm(h, *layer["n1"])
        h = h + self._attend(layer["itself"], n, n, state.rings[0][0], turn)
        state.prepared = Prepared(p, r, z_rel, h, turn)

    def step(self, lead: torch.Tensor, partner: torch.Tensor | None, rel: torch.Tensor | None, state: CpuState,
             noise=0.0, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if state.prepared is None:
            self.prepare(partner, rel, state, noise, generator)
        ready, state.prepared = state.prepared, None
        z_lead = self._sample(*state.lead.step([lead[:, 0].cpu().numpy()], ready.turn), noise, generator)[0]
        memory = apply(np.concatenate([z_lead, ready.z_rel], -1), self.memory)
        h = ready.h
        for i, (layer, (itself, remembered)) in enumerate(zip(self.layers, state.rings)):
            if i:
                n = layer_norm(h, *layer["n1"])
                h = h + self._attend(layer["itself"], n, n, itself, ready.turn)
            h = h + self._attend(layer["memory"], layer_norm(h, *layer["n2"]), memory, remembered, ready.turn)
            h = h + apply(gelu(apply(layer_norm(h, *layer["n3"]), layer["fc"])), layer["out"])
        state.frame += 1
        h = layer_norm(h, *self.norm)
        nxt = ready.partner + apply(h, self.head)
        placement = ready.rel[:, :PLACEMENT] + apply(h, self.place)
        return torch.from_numpy(nxt[:, None]), torch.from_numpy(placement[:, None])
