"""Shared test fixtures: the real mocap in ../shared/motiondata, skipped with a reason where absent."""
from __future__ import annotations

from pathlib import Path

import pytest

from bridge.bench import free_port  # noqa: F401  (shared by the socket tests)
from models.dataset import data_root

DATA = data_root()
FIXTURES = DATA / "fixtures"
BANDAI_BVH = FIXTURES / "dataset-1_dash_normal_001.bvh"
SALSA_LEAD = FIXTURES / "60_01_scaled_first120f.bvh"
SALSA_FOLLOW = FIXTURES / "61_01_scaled_first120f.bvh"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"motion data not found at {path} (set MOTIONBRIDGE_DATA to the shared/motiondata folder)")
    return path


@pytest.fixture
def bandai_bvh() -> Path:
    return need(BANDAI_BVH)


@pytest.fixture
def salsa_pair() -> tuple[Path, Path]:
    return need(SALSA_LEAD), need(SALSA_FOLLOW)


@pytest.fixture(scope="session")
def solo_model():
    """The shipped solo model (the daemon's default)."""
    from models import checkpoint
    base = checkpoint.default_checkpoint("solo")
    if not base.with_suffix(".safetensors").exists():
        pytest.skip("no shipped solo model in models/weights")
    return checkpoint.load(base)
