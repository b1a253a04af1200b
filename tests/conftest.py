"""Shared test fixtures: the real mocap in ../shared/motiondata, skipped with a reason where absent."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import pytest

from bridge.bench import free_port  # noqa: F401  (shared by the socket tests)
from models.dataset import data_root

DATA = data_root()
FIXTURES = DATA / "fixtures"
BANDAI_BVH = FIXTURES / "dataset-1_dash_normal_001.bvh"
SALSA_LEAD = FIXTURES / "60_01_scaled_first120f.bvh"
SALSA_FOLLOW = FIXTURES / "61_01_scaled_first120f.bvh"


def wait_until(condition: Callable[[], object], timeout: float = 10.0, every: float = 0.02) -> bool:
    """Wait for something the daemon does (a count moving, a file appearing), not for a fixed time:
    True as soon as `condition()` holds, False if it has not within `timeout` (generous, for a
    loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


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
