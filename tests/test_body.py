"""A body kept a body: bones set to their lengths, keeping their directions; a planted foot stays put
while the body moves over it, its leg keeping its lengths; a foot in the air, or one the body has
left far behind, goes with the pose."""
import numpy as np
import pytest

from models import skeleton
from models.body import HOLD, LEGS, LET_GO, LIFT, fit_bones, joint_bones, plant

HIP, KNEE, ANKLE, TOE = (LEGS[:, i] for i in range(4))


@pytest.fixture(scope="module")
def standing():
    """A real follower's first frame (CMU salsa, subject 61), its feet on the floor."""
    from models.bvh import read_bvh
    from tests.conftest import SALSA_FOLLOW, need
    pose = skeleton.from_bvh(read_bvh(need(SALSA_FOLLOW)))[:1]
    return pose, pose[0, LEGS[:, 2:], 1], joint_bones(pose[0])


def moved(pose: np.ndarray, by) -> np.ndarray:
    return pose + np.asarray(by, dtype=np.float32)


def leg_lengths(pose: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pose[:, [KNEE, ANKLE, TOE]] - pose[:, [HIP, KNEE, ANKLE]], axis=-1)


def test_fitted_bones_take_their_lengths_and_keep_their_directions(standing):
    pose, _, bones = standing
    local = pose - pose[:, :1]
    stretched = local * np.float32(1.1) + np.random.default_rng(0).normal(0, 0.01, local.shape).astype(np.float32)
    fitted = fit_bones(stretched, bones)
    np.testing.assert_allclose(joint_bones(fitted[0]), bones, atol=1e-5)
    parents = np.asarray(skeleton.PARENTS)[1:]
    direction = lambda p: (p[0, 1:] - p[0, parents]) / np.linalg.norm(p[0, 1:] - p[0, parents], axis=-1, keepdims=True)
    np.testing.assert_allclose(direction(fitted), direction(stretched), atol=1e-5)


def bend(pose: np.ndarray) -> np.ndarray:
    """Each knee's offset from its hip-to-ankle line (P, 2, 3)."""
    leg, knee = pose[:, ANKLE] - pose[:, HIP], pose[:, KNEE] - pose[:, HIP]
    u = leg / np.linalg.norm(leg, axis=-1, keepdims=True)
    return knee - (knee * u).sum(-1, keepdims=True) * u


def test_a_planted_foot_stays_while_the_body_moves_over_it(standing):
    pose, floor, bones = standing
    body = moved(pose, (0.05, -0.03, 0.02))                 # a step's worth across, knees bending
    out = plant(body, pose, floor, bones)
    np.testing.assert_allclose(out[:, ANKLE], pose[:, ANKLE], atol=1e-5)
    np.testing.assert_allclose(out[:, TOE], pose[:, TOE], atol=1e-4)
    np.testing.assert_array_equal(out[:, HIP], body[:, HIP])      # the body goes where it was sent
    np.testing.assert_allclose(leg_lengths(out), bones[[KNEE, ANKLE, TOE]][None], atol=1e-4)
    # the knee bends the way it bent, not backwards through the leg
    assert (bend(out) * bend(pose)).sum(-1).min() > 0


def test_a_lifted_foot_goes_with_the_pose(standing):
    pose, floor, bones = standing
    body = moved(pose, (0.05, LIFT + 0.02, 0.0))
    np.testing.assert_array_equal(plant(body, pose, floor, bones), body)


def test_a_foot_left_far_behind_lets_go(standing):
    pose, floor, bones = standing
    body = moved(pose, (HOLD + LET_GO + 0.01, 0.0, 0.0))
    np.testing.assert_array_equal(plant(body, pose, floor, bones), body)


def test_a_foot_out_of_reach_is_drawn_after_the_body_not_tearing_the_leg(standing):
    pose, floor, bones = standing
    body = moved(pose, (0.0, 0.045, 0.0))                  # higher than its nearly straight legs reach
    out = plant(body, pose, floor, bones)
    np.testing.assert_allclose(leg_lengths(out), bones[[KNEE, ANKLE, TOE]][None], atol=1e-4)
    slid = np.linalg.norm(out[:, ANKLE] - pose[:, ANKLE], axis=-1)
    assert (slid > 0.02).all() and (slid < 0.045).all()    # partly held: it moves less than the body
