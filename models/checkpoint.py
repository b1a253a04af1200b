"""Checkpoints: weights in safetensors (loading runs no code) beside a JSON file with everything
else a model needs to run, and the record of how it was made.

    X.safetensors   the model's state dict
    X.json          {"kind", "model_args", "labels", "feature_mean", "feature_std", "fps",
                     "command", "seed", "data", "metrics", "step", ...}
    X.train.pt      optimizer and step for `--resume` (torch.load(weights_only=True))
"""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as to_bytes

from .files import atomic_write

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or does not fit the model it claims to be."""


def stem(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".safetensors", ".json") else path


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
    base = stem(path)
    try:
        return json.loads(base.with_suffix(".json").read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{base}.json: checkpoint not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{base}.json: corrupt checkpoint metadata ({e})") from None


def load(path: str | Path, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a model from its checkpoint alone; the model is returned in eval mode."""
    from .solo import SoloConfig, SoloModel
    kinds = {"solo": (SoloConfig, SoloModel)}
    base = stem(path)
    meta = read_meta(base)
    kind = meta.get("kind")
    if kind not in kinds:
        raise CheckpointError(f"{base}.json: unknown model kind {kind!r}; known: {', '.join(kinds)}")
    if kind == "solo" and "pace" not in meta:
        raise CheckpointError(f"{base}.json: a solo model from before pace conditioning; retrain it with "
                              "`motionbridge train solo` (the shipped model already is)")
    config_cls, model_cls = kinds[kind]
    names = {f.name for f in fields(config_cls)}
    args = meta.get("model_args", {})
    if not isinstance(args, dict) or set(args) - names:
        raise CheckpointError(f"{base}.json: model_args do not describe a {kind} model ({sorted(set(args) - names)})")
    model = model_cls(config_cls(**args))
    try:
        state = load_file(str(base.with_suffix(".safetensors")), device=str(device))
    except FileNotFoundError:
        raise CheckpointError(f"{base}.safetensors: weights not found") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{base}.safetensors: corrupt weights ({e})") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if "\n" in str(e) else str(e)
        raise CheckpointError(f"{base}: weights do not match the config in {base.name}.json: {first}") from None
    return model.to(device).eval(), meta
