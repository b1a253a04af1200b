"""Cleaning a tracked lead: One Euro smoothing, missing joints, a jump eased, the human leaving, and
an image pose placed as a full-size body."""
import numpy as np
import pytest

from models import motion, skeleton
from models.duet.lead import LeadConfig, OneEuro, TrackedLead, image_scale, place_image

FPS = 30.0


def rest() -> np.ndarray:
    """A standing body at the origin (any plausible one will do: the BVH fixture's first frame)."""
    from models.bvh import read_bvh
    from tests.conftest import BANDAI_BVH, need
    p = skeleton.from_bvh(read_bvh(need(BANDAI_BVH)))[0]
    return p - p[0] * np.array([1.0, 0.0, 1.0])


def test_one_euro_steadies_a_still_pose_and_follows_a_fast_move_with_less_lag_when_beta_is_up():
    rng = np.random.default_rng(0)
    still = OneEuro(cutoff=1.0, beta=0.0)
    out = np.array([still(np.array([[0.0, 1.0, 0.0]]) + rng.normal(0, 0.02, (1, 3)), 1 / FPS) for _ in range(300)])
    assert out[100:].std(0).max() < 0.4 * 0.02                       # jitter of 2 cm → under 8 mm
    lags = {}
    for beta in (0.0, 2.0):
        f = OneEuro(cutoff=1.0, beta=beta)
        x = np.linspace(0, 3, 60)                                    # 3 m in 2 s: a fast move
        y = np.array([f(np.array([[v, 0.0, 0.0]]), 1 / FPS)[0, 0] for v in x])
        lags[beta] = float(np.mean(x[20:] - y[20:]))
    assert lags[2.0] < 0.5 * lags[0.0]


def test_missing_joints_are_filled_where_they_were_on_the_body():
    body = rest()
    lead = TrackedLead(LeadConfig(), body, FPS)
    lead.tracked(body, False, 30.0, 0.0)
    moved = body + np.array([0.5, 0.0, 0.0])
    holes = moved.copy()
    holes[[7, 8, 15]] = np.nan                                       # an elbow, a wrist, an ankle unseen
    filled = lead._fill(holes)
    assert np.allclose(filled, moved, atol=1e-9)
    holes[0] = np.nan                                                # no pelvis either: between the hips
    assert np.isfinite(lead._fill(holes)).all()


def test_a_jump_is_eased_and_a_human_who_leaves_is_gone_after_leave_after():
    body = rest()
    config = LeadConfig(leave_after=1.0, ease=1.0, jump=0.6)
    lead = TrackedLead(config, body, FPS)
    shown = [lead.show(lead.tracked(body, False, 30.0, 0.0), "tracked") for _ in range(10)]
    far = body + np.array([2.0, 0.0, 0.0])                           # someone else, 2 m away
    for _ in range(40):
        shown.append(lead.show(lead.tracked(far, False, 30.0, 0.0), "tracked"))
    roots = np.array([s[0] for s in shown])
    assert lead.jumps == 1
    assert np.abs(np.diff(roots[:, 0])).max() < 0.1                  # never more than 10 cm a frame
    assert roots[-1, 0] == pytest.approx(2.0, abs=1e-3)              # and there after a second
    for _ in range(int(FPS)):
        assert lead.tracked(None, False, 30.0, 0.0) is not None      # held through a second's gap
    assert lead.tracked(None, False, 30.0, 0.0) is None and not lead.present


def test_an_image_pose_becomes_a_full_size_body_on_the_floor_at_the_plane():
    body = rest()
    small = body * 0.3 + np.array([0.2, 0.5, 0.0])                   # far from the camera, up the picture
    small[:, 2] = 0.0
    placed = place_image(small, image_scale(small, body), plane=1.5)
    assert np.allclose(placed[:, 2], 1.5)
    assert placed[:, 1].min() == pytest.approx(0.0)
    torso = lambda p: np.linalg.norm(p[3] - p[0])                   # noqa: E731  pelvis → neck
    assert torso(placed) == pytest.approx(torso(body))              # the canonical body's size ...
    assert np.allclose((placed - placed[0])[:, :2], (small - small[0])[:, :2] * torso(body) / torso(small))  # ... its shape kept
    torso = small.copy()
    torso[0] = np.nan                                                # no torso seen: no scale to read
    assert image_scale(torso, body) is None


def test_step_features_are_encode_for_the_newest_frame():
    body = rest()
    walk = np.stack([motion.rotate_yaw(body + np.array([0.02 * t, 0.0, 0.01 * t]), 0.03 * t) for t in range(5)])
    assert np.allclose(motion.step_features(walk[3:4], walk[4:5])[0], motion.encode(walk)[0][4], atol=1e-5)
