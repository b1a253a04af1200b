import numpy as np

from bridge import osc
from bridge.engine import Frame
from bridge.output import REACH, OutputFormat
from models.motion import WALL
from models.solo.live import SoloLive
from models.live import Condition
from models.sampling import SamplingParams


def frame(positions: np.ndarray) -> Frame:
    P = len(positions)
    return Frame(7, 0.25, positions, np.full((P, 2), 0.5), np.full((P, 2), 0.5))


def test_a_frame_goes_out_in_bundles_that_fit_one_ethernet_frame():
    positions = np.random.default_rng(0).normal(size=(8, 21, 3))
    datagrams = OutputFormat("mediapipe33", "metres", per_joint=True).encode(frame(positions))
    assert all(len(d) <= 1472 for d in datagrams)
    messages = [m for d in datagrams for m in osc.parse(d)]
    assert messages[0].address == "/motion/frame" and messages[0].args == (7, 0.25)
    poses = [m for m in messages if m.address.endswith("/pose")]
    assert len(poses) == 8 and len(poses[0].args) == 33 * 3
    assert sum(m.address.startswith("/motion/3/") for m in messages) == 3 + 33


def test_normalised_space_maps_the_stage_onto_the_image():
    out = OutputFormat("canonical", "normalised", stage=3.0)
    edge = 3.0 * (1 + WALL) + REACH                                             # the wall, and an arm beyond it
    body = np.zeros((1, 21, 3))
    body[0, :3] = [[-edge, 0.0, -edge], [edge, 2 * edge, edge], [0.0, edge / 2, 0.0]]
    np.testing.assert_allclose(out.points(body)[0, :3], [[0, 1, 0], [1, 0, 1], [0.5, 0.75, 0.5]])


def test_a_dancer_who_stays_on_stage_stays_in_the_image(solo_model):
    model, meta = solo_model
    live = SoloLive(model, meta, performers=2, seed=3, stage=1.5)
    out = OutputFormat("canonical", "normalised", stage=1.5)
    condition = Condition(np.eye(len(live.labels), dtype=np.float32)[[1, 3]], [SamplingParams(energy=2.0)] * 2)
    points = np.stack([out.points(live.step(condition)) for _ in range(600)])      # 20 s of lively dancing
    assert points.min() >= 0.0 and points.max() <= 1.0, (points.min(), points.max())
    assert np.ptp(points[..., 0]) > 0.05                                          # and it does move about
