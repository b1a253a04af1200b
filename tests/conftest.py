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


def handled(client, daemon, frames: int = 2) -> None:
    """Wait until everything `client` (a python-osc SimpleUDPClient) sent before has been applied:
    a ping sent after it is answered (the daemon handles one sender's datagrams in order), and then
    `frames` more frames are made (commands are applied as a frame starts)."""
    token = int(time.monotonic() * 1000) % 2 ** 31
    client.send_message("/bridge/ping", [token])
    deadline = time.monotonic() + 10.0
    while True:
        assert time.monotonic() < deadline, "the daemon did not answer a ping within 10 s"
        try:
            m = next(iter(client.get_messages(0.5)), None)
        except (OSError, TimeoutError):
            continue
        if m is not None and m.address == "/bridge/pong" and m.params == [token]:
            break
    made = daemon.stats.frames
    assert wait_until(lambda: daemon.stats.frames >= made + frames), "frames stopped"


def udp_bound(port: int) -> bool:
    """Whether some program listens on UDP `port` (Linux /proc/net/udp): how a test knows that a
    peer it started (oscdump, pd) is ready, without guessing how long that takes."""
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return True        # no /proc: cannot tell, assume ready
    return any(int(line.split()[1].split(":")[1], 16) == port for line in lines)


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


def shipped(kind: str):
    from models import checkpoint
    base = checkpoint.default_checkpoint(kind)
    if not base.with_suffix(".safetensors").exists():
        pytest.skip(f"no shipped {kind} model in models/weights")
    return checkpoint.load(base)


@pytest.fixture(scope="session")
def bandai_dataset():
    """Bandai dataset-1's seven emotions, built from the real BVH (a few seconds)."""
    from models import dataset
    need(DATA / "bandai")
    return dataset.build("bandai")


@pytest.fixture(scope="session")
def solo_model():
    """The shipped solo model (the daemon's default)."""
    return shipped("solo")


@pytest.fixture(scope="session")
def duet_model():
    """The shipped duet model (serve --partner's default)."""
    return shipped("duet")


@pytest.fixture(scope="session")
def action_model(tmp_path_factory) -> Path:
    """A tiny solo model trained for a few steps on real clips named as Bandai names them (calm and
    wild, each walking to the left and bowing), so it takes actions: the shipped model does not."""
    from bridge.cli import main
    from models import skeleton
    from models.bvh import read_bvh
    from models.dataset import Clip, assemble
    p = skeleton.from_bvh(read_bvh(need(BANDAI_BVH)))[:, None]
    clips = [Clip(f"dataset-1_{act}_{label}_001", label, p, False)
             for act in ("walk-left", "bow") for label in ("calm", "wild")]
    folder = tmp_path_factory.mktemp("action_model")
    assemble(clips, 30.0, "named clips").save(folder / "named.npz")
    assert main(["train", "solo", "--data", str(folder / "named.npz"), "--out", str(folder / "solo"), "--steps", "20",
                 "--context", "16", "--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--n-mix", "2",
                 "--batch-size", "4", "--eval-every", "20", "--warmup", "1", "--lr", "1e-2", "--threads", "1"]) == 0
    return folder / "solo"
