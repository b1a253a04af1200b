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
