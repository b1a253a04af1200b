import numpy as np
import pytest

from models.emotions import parse_emotion, resolve, resolve_action


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


def test_an_action_resolves_to_one_the_model_knows_and_none_to_none():
    actions = ["bow", "walk"]
    assert resolve_action(" Walk ", actions) == "walk"
    assert resolve_action("NONE", actions) is None and resolve_action("none", []) is None
    with pytest.raises(ValueError, match="unknown action 'moonwalk'; this model knows none, bow, walk"):
        resolve_action("moonwalk", actions)
    with pytest.raises(ValueError, match="not trained on actions"):
        resolve_action("walk", [])
    with pytest.raises(ValueError, match="'" + "x" * 40 + "';"):      # a hostile name is cut short in the reply
        resolve_action("x" * 10_000, actions)
