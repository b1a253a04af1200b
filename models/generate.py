"""Running the solo model live: one frame per call for a batch of performers.

Holds what a show needs between frames: the key/value cache, each performer's recent frames
(for the emotion sampler and the recognised emotion) and trajectory. Pure tensor work; the
daemon's frame clock and the `generate` command both drive it.
"""
from __future__ import annotations

import numpy as np
import torch

from . import motion
from .sampling import SamplingParams, sample
from .solo import SoloModel

SCORE_WINDOW = 8        # frames the emotion sampler scores a candidate with (recent + candidate)
RECOGNISE_WINDOW = 60   # frames behind the recognised emotion that is reported (2 s)
NOISE_CORRELATION = 0.95  # frame-to-frame correlation of sampling noise: slow sway, not jitter
RECOGNISE_EVERY = 3     # frames between updates of the recognised emotion (10 Hz at 30 fps)
CLAMP_STD = 8.0         # generated features stay within this many training stds of the mean


class SoloGenerator:
    def __init__(self, model: SoloModel, meta: dict, performers: int = 1, seed: int = 0):
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self.labels: list[str] = list(meta["labels"])
        self.fps = float(meta.get("fps", 30.0))
        self.mean = np.asarray(meta["feature_mean"], dtype=np.float32)
        self.std = np.asarray(meta["feature_std"], dtype=np.float32)
        self.performers = performers
        self.generator = torch.Generator().manual_seed(seed)
        self.frame = 0
        self.reset()

    def reset(self) -> None:
        """Every performer back to the mean pose at the origin, with an empty memory."""
        B, Fd = self.performers, self.model.config.n_features
        self.cache = self.model.new_cache()
        self.prev = torch.zeros(B, Fd, device=self.device)           # normalised: the mean frame
        self.history = torch.zeros(B, RECOGNISE_WINDOW, Fd, device=self.device)
        self.trajectory = motion.Trajectory(B)
        self.noise = torch.randn(B, Fd, generator=self.generator).to(self.device)
        self.recognised = np.full((B, len(self.labels)), 1.0 / len(self.labels), dtype=np.float32)

    def seed(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    @torch.no_grad()
    def step(self, emotion: np.ndarray, params: SamplingParams | list[SamplingParams]) -> tuple[np.ndarray, np.ndarray]:
        """emotion (B, L) weights → (world positions (B, J, 3), recognised emotion (B, L))."""
        B = self.performers
        params = params if isinstance(params, list) else [params] * B
        e = torch.as_tensor(np.asarray(emotion, dtype=np.float32), device=self.device)
        e = e / e.sum(-1, keepdim=True).clamp_min(1e-6)
        out = self.model.step(self.prev, e, self.cache)
        # AR(1) noise: still standard normal at every frame, but it wanders instead of jumping
        fresh = torch.randn(self.noise.shape, generator=self.generator).to(self.device)
        self.noise = NOISE_CORRELATION * self.noise + (1 - NOISE_CORRELATION ** 2) ** 0.5 * fresh
        nxt = torch.empty_like(self.prev)
        # performers sharing a sampler and its parameters are sampled together
        groups: dict[tuple, list[int]] = {}
        for b, p in enumerate(params):
            groups.setdefault(tuple(vars(p).values()), []).append(b)
        for rows in groups.values():
            p = params[rows[0]]
            idx = torch.tensor(rows, device=self.device)
            score = self._emotion_scores(out.mu[idx], e[idx], idx) if p.sampler == "emotion" else None
            nxt[idx] = sample(out.pi_logits[idx], out.mu[idx], out.sigma[idx], self.prev[idx], p,
                              self.generator, score, self.noise[idx])
        # a sample far outside anything seen in training would feed on itself; keep it in range
        nxt = nxt.clamp_(-CLAMP_STD, CLAMP_STD)
        self.prev = nxt
        self.history = torch.cat([self.history[:, 1:], nxt[:, None]], dim=1)
        if self.frame % RECOGNISE_EVERY == 0:
            self.recognised = torch.softmax(self.model.emotion_head(self.history), -1).cpu().numpy()
        self.frame += 1
        features = nxt.cpu().numpy() * self.std + self.mean
        return self.trajectory.advance(features), self.recognised

    def _emotion_scores(self, mu: torch.Tensor, target: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """log p(target emotion) of each candidate frame appended to the recent frames: (b, G)."""
        b, G, Fd = mu.shape
        recent = self.history[rows, -(SCORE_WINDOW - 1):]                              # (b, W-1, F)
        windows = torch.cat([recent.unsqueeze(1).expand(b, G, -1, -1), mu.unsqueeze(2)], dim=2)
        logp = torch.log_softmax(self.model.emotion_head(windows.reshape(b * G, SCORE_WINDOW, Fd)), -1)
        return (logp.view(b, G, -1) * target.unsqueeze(1)).sum(-1)

    def rollout(self, emotion: np.ndarray, frames: int, params: SamplingParams, progress=None) -> np.ndarray:
        """World positions (frames, B, J, 3) for a fixed emotion."""
        out = np.empty((frames, self.performers, len(self.mean[motion.ROOT_FEATURES:]) // 3, 3), dtype=np.float32)
        for t in range(frames):
            out[t], _ = self.step(emotion, params)
            if progress:
                progress(t + 1)
        return out


def parse_emotion(text: str, labels: list[str]) -> np.ndarray:
    """'happy=0.7,sad=0.3' (or just 'happy') → weights over `labels`, summing to 1."""
    from .emotions import resolve
    weights = np.zeros(len(labels), dtype=np.float32)
    for part in filter(None, (s.strip() for s in text.split(","))):
        name, _, value = part.partition("=")
        weights[resolve(name.strip(), labels)] += float(value) if value else 1.0
    if weights.sum() <= 0:
        raise ValueError(f"emotion {text!r} has no positive weight")
    return weights / weights.sum()
