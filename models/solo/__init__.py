"""The solo family: one dancer per performer, moving with the emotion asked of it.

An emotion-conditioned causal transformer with a mixture density head and an attention-pooled
emotion head (`model`), run live one frame at a time with movement- and emotion-aware sampling
(`live`); trained by `training` on labelled motion capture, measured by `evaluate`, timed by `bench`.
This package imports only what serving needs (see models.families).
"""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import CheckpointError, names
from .model import SoloConfig as Config
from .model import SoloModel as Model

KIND = "solo"


def check(base: Path, meta: dict, config: Config) -> None:
    """What a solo checkpoint needs beyond the shared fields: each label's pace, and the names of
    the actions it takes (where it takes any)."""
    pace = meta.get("pace")
    if pace is None:
        raise CheckpointError(f"{base}.json: a solo model from before pace conditioning; retrain it with "
                              "`motionbridge train solo` (the shipped model already is)")
    if not isinstance(pace, dict) or any(not isinstance(pace.get(x), (int, float)) or isinstance(pace.get(x), bool)
                                         or not 0 < pace[x] < 100 for x in meta["labels"]):
        raise CheckpointError(f"{base}.json: pace must give every label a positive speed (m/s)")
    actions = meta.get("actions", [])
    if not names(actions) or len(actions) != config.n_actions:
        raise CheckpointError(f"{base}.json: actions must name the model's {config.n_actions} actions "
                              "(different names, 1-32 characters)")


def make_live(model: Model, meta: dict, performers: int = 1, seed: int = 0, stage: float = 0.0):
    from .live import SoloLive
    return SoloLive(model, meta, performers=performers, seed=seed, stage=stage)
