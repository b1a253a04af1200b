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
    the actions it takes (where it takes any) with each label's pace doing them; where it says how
    fast each label travels, a speed for every label (0 for one that stays in place)."""
    pace = meta.get("pace")
    if pace is None:
        raise CheckpointError(f"{base}.json: a solo model from before pace conditioning; retrain it with "
                              "`motionbridge train solo` (the shipped model already is)")
    if not isinstance(pace, dict) or any(not _speed(pace.get(x)) for x in meta["labels"]):
        raise CheckpointError(f"{base}.json: pace must give every label a positive speed (m/s)")
    travel = meta.get("travel_pace")
    if travel is not None and (not isinstance(travel, dict)
                               or any(not _speed(travel.get(x), still=True) for x in meta["labels"])):
        raise CheckpointError(f"{base}.json: travel_pace must give every label a speed (m/s)")
    actions = meta.get("actions", [])
    if not names(actions) or len(actions) != config.n_actions:
        raise CheckpointError(f"{base}.json: actions must name the model's {config.n_actions} actions "
                              "(different names, 1-32 characters)")
    paces = meta.get("action_pace", {})
    if not isinstance(paces, dict) or any(label not in meta["labels"] or not isinstance(by, dict)
                                          or any(a not in actions or not _speed(v) for a, v in by.items())
                                          for label, by in paces.items()):
        raise CheckpointError(f"{base}.json: action_pace must give labels' paces (m/s) doing the model's actions")


def _speed(v, still: bool = False) -> bool:
    """A pace a body can move at: a number of metres a second, above 0 (or 0 too, `still`) and
    well under 100."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and (0 < v or still and v == 0) and v < 100


def make_live(model: Model, meta: dict, performers: int = 1, seed: int = 0, stage: float = 0.0):
    from .live import SoloLive
    return SoloLive(model, meta, performers=performers, seed=seed, stage=stage)
