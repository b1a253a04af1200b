"""`motionbridge replay` as the tracker, a duet show as the daemon, over real UDP: partner mode follows
a replayed body in a 2-D and a 3-D layout, falls back to the soloist when the human leaves and goes
back to them when they return, never jumping; duet mode streams both dancers."""
import subprocess
import sys
import time

import numpy as np
import pytest

from bridge.client import Client
from bridge.daemon import SHIPPED, ServeConfig, create
from bridge.replay import Replay, ReplayConfig
from conftest import SALSA_LEAD, free_port, need
from models import skeleton
from models.bvh import read_bvh

PLANE = 1.5


@pytest.fixture(scope="module")
def show(solo_model, duet_model):
    d = create(ServeConfig(port=0, out_port=free_port(), partner=SHIPPED, leave_after=1.0, plane=PLANE,
                           dashboard="off", midi="none"))
    d.start()
    yield d
    d.stop()


def replay(port: int, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bridge.cli", "replay", str(need(SALSA_LEAD)),
                             "--to", f"127.0.0.1:{port}", "--loop", "true", "--seconds", "60", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def watch(client: Client, until, timeout: float = 20.0) -> list:
    """Frames, in order, until `until(client)` holds (and one more second, to see what followed)."""
    frames, deadline, done_at = [], time.monotonic() + timeout, None
    while done_at is None or time.monotonic() < done_at:
        assert time.monotonic() < deadline, f"not within {timeout} s; lead {client.snapshot and client.snapshot.performers[0].lead!r}"
        frames.append(client.frame(5.0))
        if done_at is None and client.snapshot is not None and until(client):
            done_at = time.monotonic() + 1.0
    return frames


def leads(client: Client) -> str:
    return client.snapshot.performers[0].lead


def largest_step(frames: list, body: int) -> float:
    """The most a body's root moved in one frame (frames lost on the way are spread over the gap)."""
    index = np.array([f.index for f in frames])
    root = np.array([f.poses[body, 0] for f in frames])
    return float((np.linalg.norm(np.diff(root, axis=0), axis=-1) / np.maximum(np.diff(index), 1)).max())


def test_the_replay_sends_what_a_tracker_would():
    body = skeleton.from_bvh(read_bvh(need(SALSA_LEAD)))[::4]
    flat = Replay(body, ReplayConfig(layout="coco17", image=True, drop=0.5, seed=3))
    points = flat.pose(0)
    assert points.shape == (17, 2) and (points == 0).all(axis=1).sum() > 3       # half the points missing
    assert ((points >= 0) & (points <= 1)).all()
    deep = Replay(body, ReplayConfig(layout="mediapipe33", jitter=0.01))
    assert deep.pose(5).shape == (33, 3) and len(deep) == len(body)
    assert len(Replay(body, ReplayConfig(loop=True, seconds=10))) == 300


@pytest.mark.parametrize("layout, image", [("coco17", "true"), ("mediapipe33", "false")])
def test_partner_mode_follows_a_replayed_dancer_then_the_soloist_then_the_dancer_again(show, layout, image):
    with Client("127.0.0.1", show.address[1]) as client:
        client.set("mode", "partner")
        watch(client, lambda c: c.snapshot.mode == "partner" and leads(c).startswith("soloist"))   # nobody there yet
        tracker = replay(show.address[1], "--layout", layout, "--image", image, "--drop", "0.05", "--jitter", "0.005")
        try:
            seen = watch(client, lambda c: leads(c) == "dancer")
            seen += [client.frame(5.0) for _ in range(30)]               # the lead glides over to them ...
            with_them = [client.frame(5.0) for _ in range(45)]           # ... and is them
        finally:
            tracker.terminate()
            assert tracker.wait(10) is not None
        lead = np.array([f.poses[0] for f in with_them])
        partner = np.array([f.poses[1] for f in with_them])
        if image == "true":
            assert abs(lead[..., 2].mean() - PLANE) < 0.05                # a picture, stood on the plane
        else:
            real = skeleton.from_bvh(read_bvh(need(SALSA_LEAD)))
            assert np.linalg.norm(lead[:, 0, [0, 2]].mean(0) - real[:, 0, [0, 2]].mean(0)) < 0.3   # where they are
        assert lead[..., 1].min() > -0.1 and np.isfinite(partner).all()
        apart = np.linalg.norm((lead[:, 0] - partner[:, 0])[:, [0, 2]], axis=-1)
        assert apart.max() < 3.0
        gone = watch(client, lambda c: leads(c).startswith("soloist"))
        tracker = replay(show.address[1], "--layout", layout, "--image", image)
        try:
            back = watch(client, lambda c: leads(c) == "dancer")
        finally:
            tracker.terminate()
            tracker.wait(10)
        frames = seen + with_them + gone + back
        for body in (0, 1):
            assert largest_step(frames, body) < 0.2, f"body {body + 1} jumped"


def test_duet_mode_streams_both_dancers(show):
    with Client("127.0.0.1", show.address[1]) as client:
        client.set("mode", "duet")
        assert client.schema.roles == ["lead", "partner"] and client.schema.bodies == 2
        frames = watch(client, lambda c: c.snapshot.mode == "duet" and leads(c) == "soloist")
        frames += [client.frame(5.0) for _ in range(30)]
        poses = np.array([f.poses for f in frames[-30:]])
        assert poses.shape[1:] == (2, skeleton.J, 3)
        moved = np.linalg.norm(np.diff(poses, axis=0), axis=-1).mean(axis=(0, 2))
        assert (moved > 0.001).all(), "a dancer stood still"
        assert frames[-1].role(2) == "partner"
