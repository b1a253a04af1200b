"""The solo model's live step in NumPy: `SoloModel.step`'s arithmetic, for a CPU.

A live step is one frame through four small blocks: some two hundred operations on a few hundred
numbers each. In PyTorch each costs microseconds of dispatch whatever its size, and that, not the
arithmetic, is most of the step (`bench solo`: model step, torch vs NumPy). NumPy's per-operation
cost is a fraction of it, so on a CPU the live generator steps through this copy of the weights;
`SoloModel.step` stays the reference (and the path on a GPU), and the two agree to float32
rounding (tests/test_solo_cpu.py). The weights are copied when this is made: it is for a trained
model, not one still learning.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .model import KVCache, SoloModel, SoloOutput, frequencies, pace_feature

LN_EPS = 1e-5                        # nn.LayerNorm's default, which the model's norms use


def weights_of(t: torch.Tensor) -> np.ndarray:
    """A copy of a parameter's values, in memory of its own (C order)."""
    return t.detach().cpu().numpy().copy()


def linear(layer: torch.nn.Linear) -> tuple[np.ndarray, np.ndarray]:
    """(in, out) weight, laid out for x @ w, and bias."""
    return weights_of(layer.weight.T), weights_of(layer.bias)


def norm(layer: torch.nn.LayerNorm) -> tuple[np.ndarray, np.ndarray]:
    return weights_of(layer.weight), weights_of(layer.bias)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    # sums, not means: at these sizes ndarray.mean costs four times as much (its Python wrapper)
    inv = 1.0 / x.shape[-1]
    x = x - x.sum(-1, keepdims=True) * inv
    return x * (1.0 / np.sqrt((x * x).sum(-1, keepdims=True) * inv + LN_EPS)) * weight + bias


def rotary_turn(angle: np.ndarray) -> np.ndarray:
    """The rotary turn of every (even, odd) pair of a head's features by its angle (head_dim / 2,),
    as one block-diagonal matrix: a row vector times it is each pair turned, one matmul for all
    heads of q and k."""
    D = 2 * len(angle)
    cos, sin = np.cos(angle), np.sin(angle)
    turn = np.zeros((D, D), dtype=np.float32)
    even, odd = np.arange(0, D, 2), np.arange(1, D, 2)
    turn[even, even], turn[even, odd], turn[odd, even], turn[odd, odd] = cos, sin, -sin, cos
    return turn


def gelu(x: np.ndarray) -> np.ndarray:
    """The tanh form, as the model uses."""
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


class CpuStep:
    """`SoloModel.step` for a trained model on a CPU: same inputs, same cache, same output."""

    def __init__(self, model: SoloModel):
        c = self.config = model.config
        self.heads, self.head_dim = c.n_head, c.n_embd // c.n_head
        self.frame_in = linear(model.frame_in)
        self.condition_1, self.condition_2 = linear(model.condition_in[0]), linear(model.condition_in[2])
        self.blocks = [dict(ln_1=norm(b.ln_1), qkv=linear(b.attn.qkv), proj=linear(b.attn.proj), ln_2=norm(b.ln_2),
                            fc=linear(b.mlp[0]), out=linear(b.mlp[2]), ada=None if b.ada is None else linear(b.ada))
                       for b in model.blocks]
        self.ln_f, self.mdn = norm(model.ln_f), linear(model.mdn_head)
        self.frequencies = frequencies(self.head_dim)

    def step(self, x: torch.Tensor, emotion: torch.Tensor, pace: torch.Tensor, cache: KVCache,
             action: torch.Tensor | None = None) -> SoloOutput:
        """The next-frame mixture after one new frame x (B, F), with emotion (B, L), pace (B,) and
        action (B, A) or None; `cache` (a fresh KVCache, or one only this has stepped) is updated in
        place."""
        c, H, D = self.config, self.heads, self.head_dim
        pace_in = pace_feature(pace).numpy()                          # the model's own encoding of the pace
        x, emotion = x.numpy(), emotion.numpy()
        B = x.shape[0]
        if cache.k is None:
            cache.k = np.zeros((c.n_layer, B, H, c.context, D), dtype=np.float32)
            cache.v = np.zeros_like(cache.k)
        turn = rotary_turn((cache.start + cache.seen) * self.frequencies)   # float64 angles, as `rotary` takes
        slot, n = cache.seen % c.context, min(cache.seen + 1, c.context)

        action = np.zeros((B, c.n_actions), np.float32) if action is None else action.numpy()
        cond = apply(gelu(apply(np.concatenate([emotion, pace_in, action], -1), self.condition_1)), self.condition_2)
        h = apply(x, self.frame_in) + cond
        for i, b in enumerate(self.blocks):
            if b["ada"] is None:
                n1 = layer_norm(h, *b["ln_1"])
            else:
                shift_1, scale_1, shift_2, scale_2 = np.split(apply(cond, b["ada"]), 4, axis=-1)
                n1 = layer_norm(h, *b["ln_1"]) * (1 + scale_1) + shift_1
            qkv = apply(n1, b["qkv"]).reshape(B, 3, H, D)
            qk = qkv[:, :2] @ turn
            keys, values = cache.k[i], cache.v[i]
            keys[:, :, slot], values[:, :, slot] = qk[:, 1], qkv[:, 2]
            y = attend(qk[:, 0], keys[:, :, :n], values[:, :, :n])                    # (B, H, D)
            h = h + apply(y.reshape(B, -1), b["proj"])
            n2 = layer_norm(h, *b["ln_2"])
            if b["ada"] is not None:
                n2 = n2 * (1 + scale_2) + shift_2
            h = h + apply(gelu(apply(n2, b["fc"])), b["out"])
        cache.seen += 1
        raw = apply(layer_norm(h, *self.ln_f), self.mdn)
        G, Fd = c.n_mix, c.n_features
        mu = raw[:, G:G + G * Fd].reshape(B, G, Fd)
        s = raw[:, G + G * Fd:].reshape(B, G, Fd)
        sigma = np.where(s > 20, s, np.log1p(np.exp(np.minimum(s, 20)))) + 1e-3     # softplus, as F.softplus
        return SoloOutput(*(torch.from_numpy(np.ascontiguousarray(a)) for a in (raw[:, :G], mu, sigma)))


def attend(q: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """One query per row and head (rows, H, D) over keys and values (rows, H, n, D) → (rows, H, D)."""
    scores = (keys @ q[..., None])[..., 0] * (1.0 / math.sqrt(q.shape[-1]))          # (rows, H, n)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    return (w[:, :, None] @ values)[:, :, 0] / w.sum(-1, keepdims=True)


def apply(x: np.ndarray, layer: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    weight, bias = layer
    return x @ weight + bias
