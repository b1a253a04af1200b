"""The duet family: a partner that dances with a lead (a tracked human, or a generated soloist).

Three sequence VAEs (the lead, the partner, their relation) feed a causal transformer decoder that
makes the partner's next frame (`model`); trained by `training` on the CMU salsa pairs.
This package imports only what serving needs (see models.families).
"""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import CheckpointError
from .model import RELATION_FEATURES
from .model import DuetConfig as Config
from .model import DuetModel as Model

KIND = "duet"


def check(base: Path, meta: dict, config: Config) -> None:
    """What a duet checkpoint needs beyond the shared fields: the relation's normalisation."""
    for key in ("relation_mean", "relation_std"):
        values = meta.get(key)
        if not isinstance(values, list) or len(values) != RELATION_FEATURES or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e6 for v in values):
            raise CheckpointError(f"{base}.json: {key} must be {RELATION_FEATURES} finite numbers")
    if any(v <= 0 for v in meta["relation_std"]):
        raise CheckpointError(f"{base}.json: relation_std must be positive")


def make_live(model: Model, meta: dict, performers: int = 1, seed: int = 0, stage: float = 0.0):
    # Partner and duet modes (the tracked lead, One Euro smoothing, the fallback lead) are the
    # next part of issue 16; until then a duet checkpoint trains and loads but is not served.
    raise ValueError("a duet checkpoint cannot be served yet: partner and duet modes are not built; "
                     "serve a solo checkpoint")
