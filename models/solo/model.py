"""The solo model: an emotion-conditioned causal transformer with an MDN head and an emotion head.

Frames are the model representation (`models/motion.py`), normalised by the dataset's stats.
Attention is causal within a sliding window of `context` frames and positions are rotary, so a
frame sees the same relative positions whether the model runs over a whole clip (training,
`forward`) or one frame at a time from a rolling key/value cache (`step`): both give the same
numbers, and a step costs the same in the first minute of a show as in the fifth hour.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@functools.lru_cache(maxsize=None)
def frequencies(head_dim: int) -> np.ndarray:
    return 1.0 / (10000 ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))


def rotary(positions: np.ndarray, head_dim: int, device=None) -> torch.Tensor:
    """Rotations e^(i·pos·freq) for rotary embedding: (n, hd/2) complex.

    Angles are taken in float64 because live positions count every frame of a show: at hour
    ten a float32 angle would be off by a tenth of a radian, in float64 by nothing that matters
    after the cast."""
    angles = np.asarray(positions, dtype=np.float64)[:, None] * frequencies(head_dim)[None]
    return torch.from_numpy(np.exp(1j * angles).astype(np.complex64)).to(device)


def rotate(x: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
    """Rotary embedding of x (..., n, hd), float32: each pair of features turned by its angle."""
    pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
    return torch.view_as_real(pairs * rot).flatten(-2)


def _direct(module: type[nn.Module]) -> type[nn.Module]:
    """`module` called straight through its forward. nn.Module.__call__ first looks for hooks,
    which this model never sets, and at a live step's sizes (one frame, 128 features) the looking
    costs nearly as much as the matmul it wraps: about 6 µs against 9 on a 2-core CPU, in a step
    that makes some fifty such calls."""
    return type(module.__name__, (module,), {"__call__": module.forward})


Linear, LayerNorm, Sequential, GELU, Dropout = map(_direct, (nn.Linear, nn.LayerNorm, nn.Sequential, nn.GELU,
                                                             nn.Dropout))


def gelu() -> nn.Module:
    # the tanh form: at a live step's sizes the exact (erf) form costs several times as much on a CPU
    return GELU(approximate="tanh")


@dataclass
class KVCache:
    """Keys (already rotated) and values of the last `context` frames, for every layer, in a ring:
    the n-th frame stepped lives in slot n mod context. Attention does not care about the order
    of keys, and each key carries its own position, so the ring is never shifted or copied."""
    k: torch.Tensor | np.ndarray | None = None     # (layers, B, heads, context, hd): torch or models.solo.cpu's
    v: torch.Tensor | np.ndarray | None = None
    seen: int = 0                     # frames stepped through this cache
    start: int = 0                    # position of its first frame; only offsets matter


@dataclass
class SoloConfig:
    n_features: int = 67        # 4 root + 21 joints × 3
    n_labels: int = 7           # the checkpoint's own label list
    n_actions: int = 0          # what a body can be asked to do (walk, bow…): the checkpoint's action list
    context: int = 64           # frames of attention window (about 2 s at 30 fps)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    n_mix: int = 8              # MDN components
    emo_window: int = 60        # frames the emotion head pools over
    dropout: float = 0.1
    adaln: bool = False         # the condition also scales and shifts every block's layer norms

    def check(self) -> None:
        """Raise ValueError, naming the field, for a configuration no model can be built from."""
        def need(ok: bool, text: str) -> None:
            if not ok:
                raise ValueError(text)
        need(self.n_features == 67, f"n_features must be 67 (the canonical skeleton's features), got {self.n_features}")
        need(1 <= self.n_labels <= 64, f"n_labels must be 1-64, got {self.n_labels}")
        need(0 <= self.n_actions <= 64, f"n_actions must be 0-64, got {self.n_actions}")
        need(1 <= self.context <= 4096, f"context must be 1-4096 frames, got {self.context}")
        need(1 <= self.n_layer <= 64, f"n_layer must be 1-64, got {self.n_layer}")
        need(1 <= self.n_head <= 64, f"n_head must be 1-64, got {self.n_head}")
        need(1 <= self.n_embd <= 4096, f"n_embd must be 1-4096, got {self.n_embd}")
        need(self.n_embd % self.n_head == 0 and (self.n_embd // self.n_head) % 2 == 0,
             f"n_embd ({self.n_embd}) must split into n_head ({self.n_head}) heads of an even width (rotary pairs)")
        need(1 <= self.n_mix <= 256, f"n_mix must be 1-256, got {self.n_mix}")
        need(1 <= self.emo_window <= 4096, f"emo_window must be 1-4096 frames, got {self.emo_window}")
        need(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout}")


class CausalSelfAttention(nn.Module):
    def __init__(self, config: SoloConfig):
        super().__init__()
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.context = config.context
        self.qkv = Linear(config.n_embd, 3 * config.n_embd)
        self.proj = Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        return tuple(t.view(B, T, self.n_head, self.head_dim).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hd)

    def forward(self, x: torch.Tensor, rot: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self._split(x)
        y = F.scaled_dot_product_attention(rotate(q, rot), rotate(k, rot), v, attn_mask=mask,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def step(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, seen: int,
             rot: torch.Tensor) -> torch.Tensor:
        """The frame after `seen` others, x (B, 1, C), against this layer's ring of keys and values
        (B, nh, context, hd). Written for one frame: no time axis to transpose, q and k turned in
        one rotation; at a live step's sizes every op saved is a few microseconds."""
        B, _, C = x.shape
        qkv = self.qkv(x).view(B, 3, self.n_head, self.head_dim)
        qk = rotate(qkv[:, :2], rot)
        slot, n = seen % self.context, min(seen + 1, self.context)
        keys[:, :, slot] = qk[:, 1]
        values[:, :, slot] = qkv[:, 2]
        if n < self.context:
            keys, values = keys[:, :, :n], values[:, :, :n]
        y = F.scaled_dot_product_attention(qk[:, 0].unsqueeze(2), keys, values)   # (B, nh, 1, hd)
        return self.proj(y.view(B, 1, C))


class Block(nn.Module):
    def __init__(self, config: SoloConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd)
        self.mlp = Sequential(Linear(config.n_embd, 4 * config.n_embd), gelu(),
                              Linear(4 * config.n_embd, config.n_embd), Dropout(config.dropout))
        # AdaLN: the condition (emotion and pace) sets a shift and a scale for each layer norm, so
        # it reaches every block directly rather than only through the first frame's input.
        # Zero at the start (SoloModel zeroes it), when the block is the plain one.
        self.ada = Linear(config.n_embd, 4 * config.n_embd) if config.adaln else None

    def _norms(self, condition: torch.Tensor | None):
        if self.ada is None:
            return self.ln_1, self.ln_2
        shift_1, scale_1, shift_2, scale_2 = self.ada(condition).chunk(4, dim=-1)
        return (lambda h: self.ln_1(h) * (1 + scale_1) + shift_1), (lambda h: self.ln_2(h) * (1 + scale_2) + shift_2)

    def forward(self, x, rot, mask, condition=None):
        ln_1, ln_2 = self._norms(condition)
        x = x + self.attn(ln_1(x), rot, mask)
        return x + self.mlp(ln_2(x))

    def step(self, x, keys, values, seen, rot, condition=None):
        ln_1, ln_2 = self._norms(condition)
        x = x + self.attn.step(ln_1(x), keys, values, seen, rot)
        return x + self.mlp(ln_2(x))


class EmotionHead(nn.Module):
    """Which emotion a stretch of motion shows: per-frame embedding of pose and velocity,
    attention pooling over time, then logits over the labels."""

    def __init__(self, config: SoloConfig, hidden: int = 96):
        super().__init__()
        self.embed = Sequential(Linear(2 * config.n_features, hidden), gelu(),
                                Linear(hidden, hidden), gelu())
        self.score = Linear(hidden, 1)
        self.out = Linear(hidden, config.n_labels)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (B, T, F), T ≥ 2 → logits (B, L)."""
        return self.pool(self.embed_frames(frames[:, 1:], frames[:, :-1]))

    def embed_frames(self, frames: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """Each frame with the one before it (..., F) → (..., H). Live generation keeps these per
        frame, so pooling over a window costs one frame's embedding, not the window's."""
        return self.embed(torch.cat([frames, frames - previous], dim=-1))

    def pool(self, h: torch.Tensor) -> torch.Tensor:
        """Frame embeddings (B, T, H) → logits (B, L)."""
        w = torch.softmax(self.score(h), dim=1)
        return self.out((w.transpose(1, 2) @ h)[:, 0])     # the weighted sum over time, as one matmul


@dataclass
class SoloOutput:
    pi_logits: torch.Tensor   # (B, T, G)   one mixture weight per component for the whole pose
    mu: torch.Tensor          # (B, T, G, F)
    sigma: torch.Tensor       # (B, T, G, F)
    mean: torch.Tensor | None = None   # (B, T, F) deterministic next-frame prediction; training only
    losses: dict = field(default_factory=dict)


def mdn_nll(pi_logits: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood per feature of y (B, T, F) under the joint mixture over whole frames."""
    y = y.unsqueeze(-2)                                                     # (B, T, 1, F)
    log_prob = (-0.5 * ((y - mu) / sigma) ** 2 - sigma.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_mix = torch.logsumexp(torch.log_softmax(pi_logits, -1) + log_prob, dim=-1)   # (B, T)
    return -log_mix.mean() / y.shape[-1]


PACE_FLOOR = 0.1   # m/s added before the log, so standing still (≈0) stays finite


def pace_feature(pace: torch.Tensor) -> torch.Tensor:
    """Pace (m/s mean root-relative joint speed over the coming second; world joint speed for
    checkpoints before 2026-12-04) → the model's input, log-scaled: a
    step from 0.2 to 0.4 m/s matters as much to a body as one from 1 to 2."""
    return torch.log(pace.clamp_min(0.0) + PACE_FLOOR).unsqueeze(-1)


class SoloModel(nn.Module):
    # the tensors indexed by label, and along which axis (models.train.initialise copies them
    # label by label when fine-tuning on another label list); the pace, then the actions, follow
    # the labels
    label_axes = {"condition_in.0.weight": 1, "emotion_head.out.weight": 0, "emotion_head.out.bias": 0}

    def __init__(self, config: SoloConfig):
        super().__init__()
        self.config = config
        C, Fd, G = config.n_embd, config.n_features, config.n_mix
        self.frame_in = Linear(Fd, C)
        # conditioning: the emotion weights, the pace and the action asked (one-hot, or none), per frame
        self.condition_in = Sequential(Linear(config.n_labels + 1 + config.n_actions, C), gelu(), Linear(C, C))
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = LayerNorm(C)
        self.mean_head = Linear(C, Fd)
        self.mdn_head = Linear(C, G + 2 * G * Fd)
        self.emotion_head = EmotionHead(config)
        self.apply(self._init_weights)
        for block in self.blocks:
            if block.ada is not None:
                nn.init.zeros_(block.ada.weight)
        # zero too: a model fine-tuned to take actions starts as the one it came from, whatever is asked
        nn.init.zeros_(self.condition_in[0].weight[:, config.n_labels + 1:])

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _mixture(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Final hidden states (..., C), after ln_f → pi_logits (..., G), mu and sigma (..., G, F)."""
        G, Fd = self.config.n_mix, self.config.n_features
        raw = self.mdn_head(h)
        # Frames are predicted outright, not as a change from x: every feature is bounded (no
        # feature integrates another), and a residual's small bias would add up, frame after
        # frame, into a body that drifts off in a free-running show.
        mu = raw[..., G:G + G * Fd].unflatten(-1, (G, Fd))
        sigma = F.softplus(raw[..., G + G * Fd:].unflatten(-1, (G, Fd))) + 1e-3
        return raw[..., :G], mu, sigma

    def condition(self, emotion: torch.Tensor, pace: torch.Tensor, action: torch.Tensor | None = None) -> torch.Tensor:
        """emotion (..., L) weights, pace (...) m/s and action (..., A) one-hot (zeros or None: no
        action asked) → (..., C), added to each frame's input."""
        if action is None:
            action = emotion.new_zeros(*emotion.shape[:-1], self.config.n_actions)
        return self.condition_in(torch.cat([emotion, pace_feature(pace), action], dim=-1))

    def forward(self, x: torch.Tensor, emotion: torch.Tensor, pace: torch.Tensor, targets: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, action: torch.Tensor | None = None) -> SoloOutput:
        """x (B, T, F) normalised frames, emotion (B, L) soft weights, pace (B, T) the mean joint
        speed (m/s) over the second after each frame, action (B, A) one-hot or zeros (None: none).
        With targets (B, T, F), the next frames, the output carries the keypoint MSE, MDN NLL and
        velocity losses; with labels (B,) too, the emotion losses."""
        B, T, _ = x.shape
        if action is not None:
            action = action.unsqueeze(1).expand(-1, T, -1)
        c = self.condition(emotion.unsqueeze(1).expand(-1, T, -1), pace, action)
        h = self.frame_in(x) + c
        i = torch.arange(T, device=x.device)
        offset = i[:, None] - i[None, :]
        mask = (offset >= 0) & (offset < self.config.context)                  # causal, sliding window
        rot = rotary(np.arange(T), self.config.n_embd // self.config.n_head, x.device)
        for block in self.blocks:
            h = block(h, rot, mask, c)
        h = self.ln_f(h)
        out = SoloOutput(*self._mixture(h), self.mean_head(h))
        if targets is not None:
            out.losses["mse"] = F.mse_loss(out.mean, targets)
            out.losses["mdn"] = mdn_nll(out.pi_logits, out.mu, out.sigma, targets)
            out.losses["velocity"] = F.mse_loss(out.mean[:, 1:] - out.mean[:, :-1], targets[:, 1:] - targets[:, :-1])
        if targets is not None and labels is not None:
            # The head learns emotions from real motion only. The generator is then trained to make
            # motion that this head recognises, through a frozen copy of it: letting the head learn
            # from generated frames would let the two agree on a private code (tiny perturbations
            # carrying the label), the shortcut that muted the emotions of the seed design.
            out.losses["emotion_real"] = F.cross_entropy(self.emotion_head(targets), labels)
            frozen = {k: v.detach() for k, v in self.emotion_head.named_parameters()}
            logits = torch.func.functional_call(self.emotion_head, frozen, (out.mean,))
            out.losses["emotion_gen"] = F.cross_entropy(logits, labels)
        return out

    # inference mode, not just no_grad: it skips autograd's version counting and view tracking,
    # which at one frame of a few hundred small ops is a fifth of the step on a CPU
    @torch.inference_mode()
    def step(self, x: torch.Tensor, emotion: torch.Tensor, pace: torch.Tensor, cache: KVCache,
             action: torch.Tensor | None = None) -> SoloOutput:
        """The next-frame distribution after one new frame x (B, F), with emotion (B, L), pace (B,)
        and action (B, A) or None; `cache` (start with `new_cache()`) is updated in place."""
        c = self.config
        if cache.k is None:
            shape = (c.n_layer, x.shape[0], c.n_head, c.context, c.n_embd // c.n_head)
            cache.k, cache.v = x.new_zeros(shape), x.new_zeros(shape)
        rot = rotary(np.array([cache.start + cache.seen]), c.n_embd // c.n_head, x.device)
        cond = self.condition(emotion, pace, action).unsqueeze(1)
        h = self.frame_in(x).unsqueeze(1) + cond
        for i, block in enumerate(self.blocks):
            h = block.step(h, cache.k[i], cache.v[i], cache.seen, rot, cond)
        cache.seen += 1
        return SoloOutput(*self._mixture(self.ln_f(h[:, 0])))

    def new_cache(self) -> KVCache:
        return KVCache()
