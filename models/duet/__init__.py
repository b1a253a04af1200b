"""The duet family: a partner that dances with a lead (a tracked human, or a generated soloist).

Three sequence VAEs (the lead, the partner, their relation) feed a causal transformer decoder that
makes the partner's next frame (`model`); trained by `training` on the CMU salsa pairs.
This package imports only what serving needs (see models.families).
"""
from __future__ import annotations

from pathlib import Path

from .. import skeleton
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
    bones = meta.get("bone_lengths")       # older checkpoints lack it: the mean pose's are used
    if bones is not None and (not isinstance(bones, list) or len(bones) != skeleton.J or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 10 for v in bones)):
        raise CheckpointError(f"{base}.json: bone_lengths must be {skeleton.J} lengths in metres")


def make_live(model: Model, meta: dict, performers: int = 1, seed: int = 0, stage: float = 0.0,
              soloist=None, lead=None):
    """The live partner: `soloist` (a solo family's live, the same performers) leads in duet mode
    and whenever no human is tracked; `lead` (a LeadConfig) says how a tracked human is cleaned."""
    from .lead import LeadConfig
    from .live import DuetLive
    if soloist is None:
        raise ValueError("a duet needs a soloist to lead: serve a solo checkpoint with --partner DUET")
    if soloist.performers != performers:
        raise ValueError(f"the soloist dances {soloist.performers} performers, the duet {performers}")
    return DuetLive(model, meta, soloist, lead or LeadConfig(), seed=seed)
