import numpy as np
import pytest

from models import motion, skeleton
from models.bvh import read_bvh


@pytest.fixture
def clips(bandai_bvh, salsa_pair):
    return [skeleton.from_bvh(read_bvh(p)) for p in (bandai_bvh, *salsa_pair)]


def test_world_to_features_and_back_is_exact(clips):
    for p in clips:
        f, origin = motion.encode(p)
        assert f.shape == (len(p), motion.n_features())
        np.testing.assert_allclose(motion.decode(f, origin), p, atol=1e-5)


def test_features_ignore_where_and_which_way_the_body_stands(clips):
    p = clips[0]
    f, _ = motion.encode(p)
    moved = motion.rotate_yaw(p, 2.0) + np.array([3.0, 0.0, -1.0], dtype=np.float32)
    g, origin = motion.encode(moved)
    np.testing.assert_allclose(g, f, atol=1e-4)
    np.testing.assert_allclose(motion.decode(g, origin), moved, atol=1e-4)


def test_root_stays_at_local_origin_and_height_is_the_pelvis(clips):
    p = clips[1]
    f, _ = motion.encode(p)
    np.testing.assert_allclose(f[:, 4:7], 0, atol=1e-6)
    np.testing.assert_allclose(f[:, 0], p[:, 0, 1], atol=1e-6)
    assert (f[0, 1:4] == 0).all()


def test_mirror_twice_is_identity_and_matches_in_feature_space(clips):
    for p in clips:
        np.testing.assert_array_equal(motion.mirror(motion.mirror(p)), p)
        f, _ = motion.encode(p)
        np.testing.assert_allclose(motion.mirror_features(motion.mirror_features(f)), f)
        g, _ = motion.encode(motion.mirror(p))
        np.testing.assert_allclose(motion.mirror_features(f), g, atol=1e-5)


def test_mirror_swaps_left_and_right(clips):
    p = clips[0]
    m = motion.mirror(p)
    i = skeleton.INDEX
    np.testing.assert_allclose(m[:, i["r_wrist"], 0], -p[:, i["l_wrist"], 0])


def walking(frames: int, speed: float = 1.4 / 30) -> np.ndarray:
    """Features of a body walking straight ahead at 1.4 m/s, its pose fixed."""
    f = np.zeros((frames, 1, motion.ROOT_FEATURES + 63))
    f[:, :, 0], f[:, :, 2] = 0.9, speed
    return f


def test_a_stage_turns_a_long_walk_back_towards_the_centre():
    free, staged = motion.Trajectory(1), motion.Trajectory(1, stage=2.5)
    far_free = far_staged = 0.0
    for f in walking(30 * 120):                    # two minutes straight ahead
        far_free = max(far_free, float(np.hypot(*free.advance(f)[0, 0, [0, 2]])))
        far_staged = max(far_staged, float(np.hypot(*staged.advance(f)[0, 0, [0, 2]])))
    assert far_free > 150
    assert 1.5 < far_staged < 2.5 * (1 + motion.WALL) + 0.2   # a brisk walk turns back before the wall


def test_a_stage_leaves_a_dancer_inside_it_alone():
    free, staged = motion.Trajectory(1), motion.Trajectory(1, stage=2.5)
    for f in walking(30, speed=1.0 / 30):          # one second: one metre, well inside the stage
        np.testing.assert_array_equal(free.advance(f), staged.advance(f))


def test_pace_is_the_mean_joint_speed_of_the_second_ahead():
    # a rigid body walking at 1 m/s for 2 s, then standing for 2 s
    body = np.random.default_rng(0).normal(size=(1, 21, 3))
    x = np.concatenate([np.arange(61) / 30.0, np.full(60, 2.0)])
    p = body + np.stack([x, np.zeros_like(x), np.zeros_like(x)], -1)[:, None]
    pace = motion.pace(p, fps=30.0)
    assert pace.shape == (121,)
    np.testing.assert_allclose(pace[:31], 1.0, atol=1e-5)        # the whole next second walks
    assert pace[45] == pytest.approx(0.5, abs=0.02)                # half of it walks
    np.testing.assert_allclose(pace[61:], 0.0, atol=1e-6)         # standing, to the end of the clip


def test_a_dancer_walking_straight_out_never_passes_the_stage_wall():
    walk = np.zeros((1, motion.n_features()))
    walk[0, 2] = 2.0 / 30                       # 2 m/s straight ahead, never turning of its own accord
    trajectory = motion.Trajectory(1, stage=2.0)
    reach = [np.hypot(trajectory.x, trajectory.z)[0] for _ in range(1800) if trajectory.advance(walk) is not None]
    assert max(reach) <= 2.0 * (1 + motion.WALL) + 1e-9
    assert max(reach) > 1.5                     # it did travel: the wall, not a standstill
