"""Training the solo model: one config dataclass, one linear loop.

Runs as is on one CPU or GPU, and under `torchrun --nproc_per_node N` with
DistributedDataParallel (gloo on CPU, NCCL on CUDA): every rank draws its own windows, rank 0
evaluates, logs and writes checkpoints.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist

from . import checkpoint, motion, schedules, skeleton
from .dataset import MotionDataset
from .solo import SoloConfig, SoloModel


@dataclass
class TrainConfig:
    steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.05
    grad_clip: float = 1.0
    mdn_schedule: str = "linear"      # constant | linear | exponential
    mdn_start: float = 0.1
    mdn_end: float = 1.0
    mdn_delay: float = 0.3            # fraction of steps before the MDN weight ramps
    mdn_ramp: float = 0.4             # fraction of steps the ramp takes
    w_emotion: float = 0.2
    w_velocity: float = 0.5
    w_bone: float = 3.0               # relative bone-length error of every MDN component's pose
    teacher_forcing_floor: float = 0.25  # share of real input frames at the end of training
    input_noise: float = 0.03         # std (normalised units) of noise on input frames, not targets
    mirror: bool = True
    eval_every: int = 250
    seed: int = 1337
    device: str = "auto"
    threads: int = 0                  # CPU threads; 0 = torch's choice
    tensorboard: str = ""             # a folder to write TensorBoard event files to


class WindowSampler:
    """Random training windows, each drawn with the label of the clip it came from.

    A window and its label are read from one clip index in one place, so no shuffle can pair
    motion with another clip's label (the seed code shuffled them separately).
    """

    def __init__(self, ds: MotionDataset, clips: list[int], length: int, mirror: bool, seed: int):
        self.length = length + 1          # inputs and their next frames
        self.clips = [c for c in clips if ds.clip_length(c) >= self.length]
        if not self.clips:
            raise ValueError(f"no clip is {self.length} frames long; use a shorter --context")
        self.features = [(ds.features[c][:, 0] - ds.feature_mean) / ds.feature_std for c in self.clips]
        self.mirrored = [(motion.mirror_features(ds.features[c][:, 0]) - ds.feature_mean) / ds.feature_std
                         for c in self.clips] if mirror else None
        self.pace = [motion.pace(ds.clip(c)[:, 0], ds.fps) for c in self.clips]
        self.labels = np.array([ds.labels[c] for c in self.clips])
        weights = np.array([len(f) - self.length + 1 for f in self.features], dtype=np.float64)
        self.weights = weights / weights.sum()
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(windows (B, length+1, F) float32, labels (B,) int64, pace of the input frames
        (B, length) float32)."""
        picks = self.rng.choice(len(self.clips), size=size, p=self.weights)
        windows = np.empty((size, self.length, self.features[0].shape[1]), dtype=np.float32)
        pace = np.empty((size, self.length - 1), dtype=np.float32)
        for b, k in enumerate(picks):
            source = self.mirrored[k] if self.mirrored is not None and self.rng.random() < 0.5 else self.features[k]
            start = self.rng.integers(0, len(source) - self.length + 1)
            windows[b] = source[start:start + self.length]
            pace[b] = self.pace[k][start:start + self.length - 1]
        return windows, self.labels[picks], pace


def data_hash(ds: MotionDataset) -> str:
    """A fingerprint of the data itself (motion, labels, split), whatever file it came from."""
    h = hashlib.sha256()
    for array in (ds.positions, ds.clip_offsets, ds.labels, ds.heldout):
        h.update(np.ascontiguousarray(array).tobytes())
    h.update("\n".join(ds.label_names + ds.clip_names).encode())
    return h.hexdigest()[:16]


def label_paces(ds: MotionDataset) -> dict[str, float]:
    """Each label's typical pace: the mean joint speed (m/s) of its training clips, averaged over
    clips. Live generation asks for this pace when given this emotion (times the energy)."""
    train = ds.split(heldout=False)
    out = {}
    for i, name in enumerate(ds.label_names):
        speeds = [motion.joint_speed(ds.clip(c)[:, 0], ds.fps).mean()
                  for c in train if ds.labels[c] == i and ds.clip_length(c) > 1]
        out[name] = float(np.mean(speeds)) if speeds else 0.0
    return out


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _distributed() -> tuple[int, int]:
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) < 2:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def loss_weights(step: int, tc: TrainConfig) -> dict[str, float]:
    return {
        "mse": 1.0,
        "mdn": schedules.ramp(step, tc.mdn_start, tc.mdn_end, int(tc.mdn_delay * tc.steps),
                              int(tc.mdn_ramp * tc.steps), tc.mdn_schedule),
        "velocity": tc.w_velocity,
        "bone": tc.w_bone,
        "emotion_real": tc.w_emotion,
        "emotion_gen": tc.w_emotion,
    }


class BoneLoss:
    """Relative bone-length error of each MDN component's mean pose against the real next frame.

    The likelihood alone lets a component's mean sit inside the arc a fast wrist sweeps (the
    average of points on a sphere lies within it): a forearm a quarter short. Every component is
    a pose the body may take next, so each must keep the body's proportions."""

    def __init__(self, feature_mean: np.ndarray, feature_std: np.ndarray, device):
        joints = slice(motion.ROOT_FEATURES, None)
        self.mean = torch.as_tensor(feature_mean[joints], dtype=torch.float32, device=device)
        self.std = torch.as_tensor(feature_std[joints], dtype=torch.float32, device=device)
        parents = np.array(skeleton.PARENTS)
        self.child = torch.as_tensor(np.flatnonzero(parents >= 0), device=device)
        self.parent = torch.as_tensor(parents[parents >= 0], device=device)

    def lengths(self, f: torch.Tensor) -> torch.Tensor:
        """Normalised features (..., F) → bone lengths (..., bones) in metres."""
        p = (f[..., motion.ROOT_FEATURES:] * self.std + self.mean).unflatten(-1, (-1, 3))
        return (p[..., self.child, :] - p[..., self.parent, :]).norm(dim=-1)

    def __call__(self, mu: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        real = self.lengths(targets).unsqueeze(-2)                    # (B, T, 1, bones)
        return ((self.lengths(mu) - real).abs() / real.clamp_min(1e-3)).mean()


def _teacher_force(model: SoloModel, x: torch.Tensor, emotion: torch.Tensor, pace: torch.Tensor, keep: float,
                   rng: torch.Generator) -> torch.Tensor:
    """Replace a share of input frames with the model's own prediction of them, so it learns
    to carry on from its imperfect output rather than freeze or drift in long rollouts."""
    if keep >= 1.0:
        return x
    own = x
    with torch.no_grad():
        for _ in range(2):   # predictions made from predictions: errors as they compound live
            own = torch.cat([x[:, :1], model(own, emotion, pace).mean[:, :-1]], dim=1)
    use_real = torch.rand(x.shape[:2], generator=rng, device="cpu").to(x.device) < keep
    return torch.where(use_real.unsqueeze(-1), x, own)


@torch.no_grad()
def evaluate(model: SoloModel, sampler: WindowSampler, n_labels: int, device, bone_loss: BoneLoss,
             batches: int = 8, batch_size: int = 32) -> dict[str, float]:
    model.eval()
    totals: dict[str, float] = {}
    correct = 0
    for _ in range(batches):
        w, labels, pace = (torch.from_numpy(a).to(device) for a in sampler.batch(batch_size))
        emotion = torch.nn.functional.one_hot(labels, n_labels).float()
        out = model(w[:, :-1], emotion, pace, w[:, 1:], labels)
        out.losses["bone"] = bone_loss(out.mu, w[:, 1:])
        for k, v in out.losses.items():
            totals[k] = totals.get(k, 0.0) + float(v) / batches
        correct += int((model.emotion_head(w[:, 1:]).argmax(-1) == labels).sum())
    totals["emotion_head_accuracy"] = correct / (batches * batch_size)
    model.train()
    return totals


def train(ds: MotionDataset, mc: SoloConfig, tc: TrainConfig, out: str | Path, meta: dict,
          resume: bool = False, on_step: Callable[[int, dict], None] | None = None) -> dict:
    """Train and write `out`.safetensors/.json (and `out`.train.pt for --resume). Returns metrics."""
    rank, world = _distributed()
    device = pick_device(tc.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed + rank)
    mc.n_labels, mc.n_features = len(ds.label_names), ds.feature_mean.shape[0]
    model = SoloModel(mc).to(device)
    optimizer = torch.optim.AdamW(
        [{"params": [p for p in model.parameters() if p.dim() >= 2], "weight_decay": tc.weight_decay},
         {"params": [p for p in model.parameters() if p.dim() < 2], "weight_decay": 0.0}],
        lr=tc.lr, betas=(0.9, 0.99))
    out = checkpoint.stem(out)
    step, history = 0, []
    if resume:
        state = torch.load(out.with_suffix(".train.pt"), map_location=device, weights_only=True)
        loaded, _ = checkpoint.load(out, device)
        model.load_state_dict(loaded.state_dict())
        optimizer.load_state_dict(state["optimizer"])
        step, history = int(state["step"]), json.loads(state["history"])
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    train_sampler = WindowSampler(ds, ds.split(heldout=False), mc.context, tc.mirror, tc.seed * 1000 + rank + step)
    held = ds.split(heldout=True)
    val_sampler = WindowSampler(ds, held or ds.split(heldout=False), mc.context, False, tc.seed + 7)
    writer = None
    if tc.tensorboard and rank == 0:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise RuntimeError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
        writer = SummaryWriter(tc.tensorboard)
    rng = torch.Generator().manual_seed(tc.seed + rank)
    bone_loss = BoneLoss(ds.feature_mean, ds.feature_std, device)
    started = time.perf_counter()
    model.train()
    while step < tc.steps:
        lr = schedules.learning_rate(step, tc.steps, tc.lr, tc.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        w, labels, pace = (torch.from_numpy(a).to(device) for a in train_sampler.batch(tc.batch_size))
        emotion = torch.nn.functional.one_hot(labels, mc.n_labels).float()
        x = _teacher_force(model, w[:, :-1], emotion, pace, schedules.teacher_forcing(step, tc.steps, tc.teacher_forcing_floor), rng)
        # noisy inputs, clean targets: the model learns to steer back towards real motion, which
        # is what keeps a free-running rollout from drifting off over minutes
        x = x + tc.input_noise * torch.randn(x.shape, generator=rng).to(device)
        out_ = ddp(x, emotion, pace, w[:, 1:], labels)
        out_.losses["bone"] = bone_loss(out_.mu, w[:, 1:])
        weights = loss_weights(step, tc)
        loss = sum(weights[k] * v for k, v in out_.losses.items())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        step += 1
        record = {"step": step, "lr": lr, "loss": loss.item(), **{k: v.item() for k, v in out_.losses.items()},
                  "w_mdn": weights["mdn"]}
        if rank == 0 and (step % tc.eval_every == 0 or step == tc.steps):
            record["val"] = evaluate(model, val_sampler, mc.n_labels, device, bone_loss)
            record["elapsed_s"] = time.perf_counter() - started
            history.append(record)
            if writer is not None:
                for k, v in record.items():
                    if isinstance(v, float):
                        writer.add_scalar(f"train/{k}", v, step)
                for k, v in record["val"].items():
                    writer.add_scalar(f"val/{k}", v, step)
            _save(model, optimizer, ds, mc, tc, out, meta, step, history)
        if on_step and rank == 0:
            on_step(step, record)
    if writer is not None:
        writer.close()
    if world > 1:
        dist.barrier()
    return history[-1]["val"] if history else {}


def _save(model, optimizer, ds, mc, tc, out: Path, meta: dict, step: int, history: list) -> None:
    info = {"kind": "solo", "labels": ds.label_names, "fps": ds.fps, "pace": label_paces(ds),
            "feature_mean": ds.feature_mean.tolist(), "feature_std": ds.feature_std.tolist(),
            "train_config": asdict(tc), "step": step, **meta,
            "metrics": {"val": history[-1]["val"], "train_loss": history[-1]["loss"]}}
    checkpoint.save(out, model, info)
    state = {"optimizer": optimizer.state_dict(), "step": step, "history": json.dumps(history)}
    torch.save(state, out.with_suffix(".train.pt"))
    out.with_suffix(".log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))


def plot_curves(history: list[dict], path: str | Path, keys: tuple[str, ...] = ("mse", "mdn", "emotion_real", "emotion_gen")) -> None:
    """Training curves as a PNG (validation losses against step), drawn with Pillow."""
    from PIL import Image, ImageDraw
    W, H, pad = 640, 360, 40
    img = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    colours = [(220, 80, 40), (40, 110, 220), (40, 160, 80), (150, 60, 180)]
    steps = [r["step"] for r in history]
    if len(steps) < 2:
        img.save(path)
        return
    draw.rectangle([pad, pad // 2, W - pad // 2, H - pad], outline=(180, 180, 180))
    for i, key in enumerate(keys):
        ys = [r["val"].get(key, math.nan) for r in history]
        finite = [y for y in ys if math.isfinite(y)]
        if not finite:
            continue
        lo, hi = min(finite), max(finite)
        span = hi - lo or 1.0
        pts = [(pad + (s - steps[0]) / (steps[-1] - steps[0]) * (W - 1.5 * pad),
                H - pad - (y - lo) / span * (H - 1.5 * pad)) for s, y in zip(steps, ys)]
        draw.line(pts, fill=colours[i % 4], width=2)
        draw.text((pad + 5 + 150 * i, H - pad + 8), f"{key} {finite[-1]:.3f}", fill=colours[i % 4])
    draw.text((pad, 4), f"validation losses (each scaled to its own range), steps {steps[0]} to {steps[-1]}", fill=(0, 0, 0))
    img.save(path)
