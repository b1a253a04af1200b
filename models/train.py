"""The training loop every model family shares: one config dataclass, one linear loop.

A family brings a `Task` (its model, a batch's losses and their weights, validation, what its
checkpoint carries; see models.solo.training); the loop brings the optimizer, the learning-rate
schedule, clipping, resume, progress, curves and checkpoints. Runs as is on one CPU or GPU, and
under `torchrun --nproc_per_node N` with DistributedDataParallel (gloo on CPU, NCCL on CUDA):
every rank draws its own batches, rank 0 validates, logs and writes checkpoints.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch
import torch.distributed as dist

from . import checkpoint, schedules
from .dataset import MotionDataset
from .device import pick_device


@dataclass
class TrainConfig:
    steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.05
    grad_clip: float = 1.0
    eval_every: int = 250
    seed: int = 1337
    device: str = "auto"
    threads: int = 0                  # CPU threads; 0 = torch's choice
    tensorboard: str = ""             # a folder to write TensorBoard event files to
    init: str = ""                    # a checkpoint to start from (fine-tuning): see `initialise`


class Task(Protocol):
    kind: str
    options: object                   # the family's own training options (a dataclass)
    init: str                         # the checkpoint it was made to fine-tune (TrainConfig.init), whose
                                      # normalisation (and, where the family has them, actions) it keeps

    def build(self) -> torch.nn.Module: ...
    def start(self, tc: TrainConfig, step: int, rank: int, device: torch.device) -> None: ...
    def losses(self, model, step: int) -> tuple[dict[str, torch.Tensor], dict[str, float]]: ...
    def validate(self, model) -> dict[str, float]: ...
    def meta(self) -> dict: ...


def data_hash(ds: MotionDataset) -> str:
    """A fingerprint of the data itself (motion, labels, split), whatever file it came from."""
    h = hashlib.sha256()
    for array in (ds.positions, ds.clip_offsets, ds.labels, ds.heldout):
        h.update(np.ascontiguousarray(array).tobytes())
    h.update("\n".join(ds.label_names + ds.clip_names).encode())
    return h.hexdigest()[:16]


def _distributed() -> tuple[int, int]:
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) < 2:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def train(task: Task, tc: TrainConfig, out: str | Path, meta: dict, resume: bool = False,
          on_step: Callable[[int, dict], None] | None = None) -> dict:
    """Train and write `out`.safetensors/.json (and `out`.train.pt for --resume). Returns metrics."""
    if tc.init != task.init:
        raise ValueError(f"the task was made to fine-tune {task.init or 'nothing'}, not {tc.init or 'nothing'}")
    rank, world = _distributed()
    device = pick_device(tc.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed + rank)
    model = task.build().to(device)
    optimizer = torch.optim.AdamW(
        [{"params": [p for p in model.parameters() if p.dim() >= 2], "weight_decay": tc.weight_decay},
         {"params": [p for p in model.parameters() if p.dim() < 2], "weight_decay": 0.0}],
        lr=tc.lr, betas=(0.9, 0.99))
    out = checkpoint.stem(out)
    step, history = 0, []
    code = git_commit()          # the code that trains is what was imported now, whatever changes later
    if tc.init and not resume:
        meta = {**meta, "init": initialise(model, tc.init, device, task.meta().get("labels"))}
    if resume:
        state = torch.load(out.with_suffix(".train.pt"), map_location=device, weights_only=True)
        loaded, _ = checkpoint.load(out, device)
        model.load_state_dict(loaded.state_dict())
        optimizer.load_state_dict(state["optimizer"])
        step, history = int(state["step"]), json.loads(state["history"])
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    task.start(tc, step, rank, device)
    writer = None
    if tc.tensorboard and rank == 0:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise RuntimeError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
        writer = SummaryWriter(tc.tensorboard)
    started = time.perf_counter()
    model.train()
    while step < tc.steps:
        lr = schedules.learning_rate(step, tc.steps, tc.lr, tc.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        losses, weights = task.losses(ddp, step)
        loss = sum(weights[k] * v for k, v in losses.items())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        step += 1
        record = {"step": step, "lr": lr, "loss": loss.item(), **{k: v.item() for k, v in losses.items()},
                  **{f"w_{k}": v for k, v in weights.items()}}
        if rank == 0 and (step % tc.eval_every == 0 or step == tc.steps):
            model.eval()
            record["val"] = task.validate(model)
            model.train()
            record["elapsed_s"] = time.perf_counter() - started
            history.append(record)
            if writer is not None:
                for k, v in record.items():
                    if isinstance(v, float):
                        writer.add_scalar(f"train/{k}", v, step)
                for k, v in record["val"].items():
                    writer.add_scalar(f"val/{k}", v, step)
            made = {"device": str(device) + (f" × {world}" if world > 1 else ""), "torch": torch.__version__,
                    "git_commit": code, "wall_s": round(record["elapsed_s"], 1)}
            _save(model, optimizer, task, tc, out, {**meta, **made}, step, history)
        if on_step and rank == 0:
            on_step(step, record)
    if writer is not None:
        writer.close()
    if world > 1:
        dist.barrier()
    return history[-1]["val"] if history else {}


def initialise(model: torch.nn.Module, path: str, device, labels: list[str] | None = None) -> dict:
    """Start `model` from a checkpoint of the same family (pretrained on more data, say): every
    tensor with the same name and shape is copied. The tensors a model indexes by label
    (`model.label_axes`: the labels first along that axis, perhaps other inputs after them) are
    copied label by label when `labels` differ from the checkpoint's, so an emotion learnt in
    pretraining is the same emotion when fine-tuning on other labels; the rows of labels it never
    saw, and tensors that fit in neither way, keep their fresh initialisation. What was taken, for
    the checkpoint's record."""
    source, meta = checkpoint.load(path, device)
    own = model.state_dict()
    theirs = meta.get("labels") or []
    axes = getattr(model, "label_axes", {})
    relabel = {} if not labels or labels == theirs else axes
    taken = {}
    for name, value in source.state_dict().items():
        if name in relabel or labels and name in axes and name in own and own[name].shape != value.shape:
            # other labels; or more inputs after them (a model that also takes actions)
            taken[name] = _by_label(own[name], value, axes[name], labels, theirs)
        elif name in own and own[name].shape == value.shape:
            taken[name] = value
    if len(taken) < len(own) / 2:       # a few label-sized layers differ; most differing is another model
        raise ValueError(f"{path}: only {len(taken)} of this model's {len(own)} tensors fit it "
                         f"(another family, or another size?)")
    model.load_state_dict(taken, strict=False)
    return {"checkpoint": str(checkpoint.stem(path)), "data": meta.get("data"), "step": meta.get("step"),
            "tensors": f"{len(taken)} of {len(own)}", "fresh": sorted(set(own) - set(taken)),
            "by_label": sorted(set(labels) & set(theirs)) if relabel else None}


def _by_label(own: torch.Tensor, theirs: torch.Tensor, axis: int, labels: list[str], their_labels: list[str]
              ) -> torch.Tensor:
    """`own` with the slices of `theirs` along `axis` for each label both lists name, and for the
    entries after the labels (inputs that are not labels, such as the pace) as far as both have them."""
    out = own.clone()
    for i, name in enumerate(labels):
        if name in their_labels:
            out.select(axis, i).copy_(theirs.select(axis, their_labels.index(name)))
    for k in range(min(own.shape[axis] - len(labels), theirs.shape[axis] - len(their_labels))):
        out.select(axis, len(labels) + k).copy_(theirs.select(axis, len(their_labels) + k))
    return out


def git_commit() -> str:
    """The commit the code that trains came from, with "+changes" when the tree differs from it.
    A copy of the tree without its history (sent to a GPU machine, say) has no commit to ask git
    for: there $MOTIONBRIDGE_COMMIT, set by whoever copied it, says which it was, marked as told."""
    import subprocess
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    if not commit:
        told = os.environ.get("MOTIONBRIDGE_COMMIT", "")
        return f"{told} (a copy without git history, as told)" if told else "unknown"
    return commit + ("+changes" if dirty else "")


def _save(model, optimizer, task: Task, tc: TrainConfig, out: Path, meta: dict, step: int, history: list) -> None:
    info = {"kind": task.kind, **task.meta(), "train_config": {**asdict(tc), **asdict(task.options)},
            "step": step, **meta, "metrics": {"val": history[-1]["val"], "train_loss": history[-1]["loss"]}}
    checkpoint.save(out, model, info)
    state = {"optimizer": optimizer.state_dict(), "step": step, "history": json.dumps(history)}
    torch.save(state, out.with_suffix(".train.pt"))
    out.with_suffix(".log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))


def plot_curves(history: list[dict], path: str | Path, keys: tuple[str, ...]) -> None:
    """Training curves as a PNG (the validation losses `keys`, a family's Task.curves, against step),
    drawn with Pillow."""
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
