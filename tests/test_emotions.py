import numpy as np
import pytest

from models.emotions import parse_emotion, resolve


def test_parse_emotion():
    labels = ["angry", "happy", "sad"]
    np.testing.assert_allclose(parse_emotion("happy=0.7,sad=0.3", labels), [0, 0.7, 0.3])
    np.testing.assert_allclose(parse_emotion("joy", labels), [0, 1, 0])
    with pytest.raises(ValueError):
        parse_emotion("happy=0", labels)


def test_words_people_use_resolve_to_the_model_s_own_labels():
    labels = ["angry", "happy", "not-confident"]
    assert resolve("Joy", labels) == 1 and resolve("shy", labels) == 2
    with pytest.raises(ValueError):
        resolve("furious", labels)
