import numpy as np
import pytest

from models import metrics, skeleton
from models.bvh import read_bvh


def test_a_body_standing_still_is_frozen_and_a_walking_one_is_not(bandai_bvh):
    p = skeleton.from_bvh(read_bvh(bandai_bvh))
    still = np.repeat(p[:1], 90, axis=0)
    assert metrics.frozen_fraction(still, 30) == 1.0 and metrics.mean_speed(still, 30) == 0.0
    walk = still + (np.arange(90) / 30)[:, None, None] * np.array([1.0, 0.0, 0.0])   # 1 m/s, rigid
    assert metrics.mean_speed(walk, 30) == pytest.approx(1.0, rel=1e-3)
    assert metrics.frozen_fraction(walk, 30) == 1.0           # travel alone is not dancing: root-relative
    assert metrics.travel_speed(walk, 30) == pytest.approx(1.0, rel=1e-3)
    assert metrics.travel_speed(still, 30) == 0.0
    assert metrics.mean_jerk(walk, 30) == pytest.approx(0.0, abs=1e-6)


def test_bone_lengths_of_a_real_body_hold(bandai_bvh):
    p = skeleton.from_bvh(read_bvh(bandai_bvh))
    lengths = metrics.bone_lengths(p)
    assert lengths.shape == (len(p), len(skeleton.PARENTS) - 1)
    assert (lengths.std(0) / lengths.mean(0)).max() < 1e-3


def test_the_classifier_learns_window_statistics_it_is_shown():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (60, 5)), rng.normal(3, 1, (60, 5))])
    y = np.repeat([0, 1], 60)
    clf = metrics.EmotionClassifier.fit(x, y, 2)
    assert (clf.predict(x) == y).mean() > 0.95


def test_a_body_sliding_on_the_spot_skates_and_one_that_steps_does_not(salsa_pair):
    p = skeleton.from_bvh(read_bvh(salsa_pair[0]))[::4]                    # 30 real frames at 30 fps
    still = np.repeat(p[:1], 90, axis=0)
    assert metrics.foot_skating(still, 30) == 0.0 and metrics.cadence(still, 30) == 0.0
    assert metrics.limb_speed(still, 30) == 0.0
    slide = still + (np.arange(90) / 30)[:, None, None] * np.array([0.5, 0.0, 0.0])   # 0.5 m/s, feet down
    assert metrics.foot_skating(slide, 30) == pytest.approx(0.5, rel=1e-3)
    assert metrics.limb_speed(slide, 30) == pytest.approx(0.0, abs=1e-4)   # travel is not the limbs
    waving = still.copy()                                                   # one wrist circling, 1 m/s
    angle = np.arange(90) / 30 / 0.1
    waving[:, metrics.HANDS[0]] += 0.1 * np.stack([np.cos(angle), np.sin(angle), 0 * angle], axis=-1)
    assert metrics.limb_speed(waving, 30, metrics.ARMS) == pytest.approx(1.0 / len(metrics.ARMS), rel=0.01)
    assert metrics.limb_speed(waving, 30, metrics.LEGS) == 0.0
    assert sorted(sum(metrics.PARTS.values(), [0])) == list(range(len(skeleton.JOINTS)))   # every joint once
    # a foot lifted and put down again, twice a second, is two touch-downs a second
    lift = still.copy()
    up = (np.arange(90) % 15) < 5
    lift[up, metrics.FEET[0]] += np.array([0.0, 0.2, 0.0])
    assert metrics.cadence(lift, 30) == pytest.approx(2.0, rel=0.05)


def test_raised_hands_and_a_bent_back_read_as_such(salsa_pair, bandai_bvh):
    p = skeleton.from_bvh(read_bvh(salsa_pair[0]))                          # a salsa dancer, upright
    assert metrics.trunk_lean(skeleton.from_bvh(read_bvh(bandai_bvh))) > 30  # a sprinter's start, leaning in
    raised = p.copy()
    raised[:, metrics.HANDS] += np.array([0.0, 0.5, 0.0])
    assert metrics.hand_height(raised) == pytest.approx(metrics.hand_height(p) + 0.5, rel=1e-4)
    upright = metrics.trunk_lean(p)
    bent = p.copy()
    neck = skeleton.INDEX["neck"]
    spine = bent[:, neck] - bent[:, 0]
    height = np.linalg.norm(spine, axis=-1, keepdims=True)
    bent[:, neck] = bent[:, 0] + height * np.array([np.sin(np.radians(40)), np.cos(np.radians(40)), 0.0])
    assert upright < 10 and metrics.trunk_lean(bent) == pytest.approx(40.0, abs=0.5)
