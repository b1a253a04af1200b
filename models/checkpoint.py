"""Checkpoints: weights in safetensors (loading runs no code) beside a JSON file with everything
else a model needs to run, and the record of how it was made.

    X.safetensors   the model's state dict
    X.json          {"kind", "model_args", "labels", "feature_mean", "feature_std", "fps",
                     "command", "seed", "data", "metrics", "step", ...}
    X.train.pt      optimizer and step for `--resume` (torch.load(weights_only=True))
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as to_bytes

from . import families
from .config import check_types
from .files import atomic_write

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


MAX_JSON = 16 << 20
MAX_PARAMS = 50_000_000    # a live model is a few million; past this a file is refused before allocating
MAX_LABELS = 64


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or does not fit the model it claims to be."""


def stem(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".safetensors", ".json") else path


def locate(path: str | Path) -> Path:
    """A checkpoint's stem from its stem, one of its files, or a folder that holds exactly one."""
    path = Path(path)
    if not path.is_dir():
        return stem(path)
    found = sorted(p.with_suffix("") for p in path.glob("*.json") if p.with_suffix(".safetensors").exists())
    if len(found) != 1:
        held = ", ".join(p.name for p in found) if found else "none"
        raise CheckpointError(f"{path}: a folder holding {len(found)} checkpoints ({held}); name one")
    return found[0]


def default_checkpoint(kind: str) -> Path:
    return WEIGHTS_DIR / kind


def save(path: str | Path, model: torch.nn.Module, meta: dict[str, Any]) -> Path:
    base = stem(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    info = {**meta, "model_args": asdict(model.config)}
    atomic_write(base.with_suffix(".safetensors"), lambda fh: fh.write(to_bytes(state)))
    atomic_write(base.with_suffix(".json"), lambda fh: fh.write(json.dumps(info, indent=1).encode()))
    return base


def read_meta(path: str | Path) -> dict[str, Any]:
    base = locate(path)
    try:
        if base.with_suffix(".json").stat().st_size > MAX_JSON:
            raise CheckpointError(f"{base}.json: larger than any checkpoint's metadata ({MAX_JSON >> 20} MB)")
        return json.loads(base.with_suffix(".json").read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{base}.json: checkpoint not found") from None
    except IsADirectoryError:
        raise CheckpointError(f"{base}.json: a folder, not a checkpoint's metadata") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise CheckpointError(f"{base}.json: corrupt checkpoint metadata ({e})") from None




def _config(base: Path, kind: str, config_cls: type, args: Any):
    """The model's config dataclass from `model_args`, every value of its field's type and range."""
    if not isinstance(args, dict):
        raise CheckpointError(f"{base}.json: model_args must be an object, got {type(args).__name__}")
    names = {f.name: f for f in fields(config_cls)}
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise CheckpointError(f"{base}.json: model_args do not describe a {kind} model (unknown {', '.join(unknown)})")
    config = config_cls(**args)
    try:
        check_types(config)
        config.check()
    except ValueError as e:
        raise CheckpointError(f"{base}.json: model_args.{e}") from None
    return config


def _numbers(base: Path, meta: dict, key: str, length: int, positive: bool = False) -> None:
    values = meta.get(key)
    if not isinstance(values, list) or len(values) != length or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (v > 0 or not positive)
            for v in values):
        raise CheckpointError(f"{base}.json: {key} must be {length} finite{' positive' if positive else ''} numbers")


def names(values: Any) -> bool:
    """Whether `values` (from a checkpoint's JSON) is a list of different names of 1-32 characters:
    its labels, say. Each is checked to be a string before any is hashed, so a list of lists is
    refused like any other defect rather than raising TypeError."""
    return isinstance(values, list) and all(isinstance(x, str) and 0 < len(x) <= 32 for x in values) \
        and len(set(values)) == len(values)


def validate(base: Path, meta: Any) -> tuple[type, Any]:
    """Check everything a checkpoint's JSON says before anything is built from it, its family's
    own fields included: the model class and its config. Raises CheckpointError with one line naming the file and the field."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{base}.json: must hold a JSON object, got {type(meta).__name__}")
    kind = meta.get("kind")
    try:
        found = families.family(kind)
    except ValueError as e:
        raise CheckpointError(f"{base}.json: {e}") from None
    config = _config(base, kind, found.Config, meta.get("model_args", {}))
    labels = meta.get("labels")
    if not names(labels) or not 1 <= len(labels) <= MAX_LABELS:
        raise CheckpointError(f"{base}.json: labels must be a list of 1-{MAX_LABELS} different names (1-32 characters)")
    if len(labels) != getattr(config, "n_labels", len(labels)):   # a family without emotion labels names its data
        raise CheckpointError(f"{base}.json: {len(labels)} labels, but the model has n_labels {config.n_labels}")
    _numbers(base, meta, "feature_mean", config.n_features)
    _numbers(base, meta, "feature_std", config.n_features, positive=True)
    fps = meta.get("fps", 30.0)
    if not isinstance(fps, (int, float)) or isinstance(fps, bool) or not 1 <= fps <= 240:
        raise CheckpointError(f"{base}.json: fps must be a number from 1 to 240, got {fps!r:.40}")
    found.check(base, meta, config)
    with torch.device("meta"):              # counts the parameters without allocating them
        n_params = sum(p.numel() for p in found.Model(config).parameters())
    if n_params > MAX_PARAMS:
        raise CheckpointError(f"{base}.json: the model would have {n_params / 1e6:.0f} M parameters; "
                              f"at most {MAX_PARAMS / 1e6:.0f} M are loaded")
    return found.Model, config


def load(path: str | Path, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a model from its checkpoint alone, checked in full first; the model is returned in
    eval mode. Any defect is a CheckpointError (a ValueError) of one line."""
    base = locate(path)
    meta = read_meta(base)
    model_cls, config = validate(base, meta)
    weights = base.with_suffix(".safetensors")
    try:
        size = weights.stat().st_size
    except FileNotFoundError:
        raise CheckpointError(f"{weights}: weights not found") from None
    model = model_cls(config)
    if size > 4 * model.n_params() + (1 << 20):     # float32 weights and a header
        raise CheckpointError(f"{weights}: {size / 1e6:.0f} MB is far more than this model's weights")
    try:
        state = load_file(str(weights), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{weights}: corrupt weights ({str(e).splitlines()[0][:120]})") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if "\n" in str(e) else str(e)
        raise CheckpointError(f"{base}: weights do not match the config in {base.name}.json: {first[:160]}") from None
    bad = [name for name, t in state.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise CheckpointError(f"{weights}: NaN or infinite values in {bad[0]}")
    return model.to(device).eval(), meta
