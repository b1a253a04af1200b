import numpy as np
import pytest

from bridge.protocol import ProtocolError, SetAction, SetLabel, SetParam, interpret, to_metres, valence_arousal

LABELS = ["normal", "happy", "sad", "angry", "proud", "not-confident", "tired"]


def one(address, *args, **kw):
    commands = interpret(address, args, LABELS, **kw)
    assert len(commands) == 1
    return commands[0]


def test_emotion_forms():
    c = one("/emotion", 0, 1, 0, 0, 0, 0, 1)            # ints are welcome
    np.testing.assert_allclose(c.weights, [0, .5, 0, 0, 0, 0, .5])
    c = one("/emotion", "joy", 0.75, "sadness", 0.25)   # synonyms map to the model's labels
    np.testing.assert_allclose(c.weights, [0, .75, .25, 0, 0, 0, 0])
    assert one("/emotion/angry", 0.5) == SetLabel(3, 0.5)
    assert one("/emotion/a", "happy", 1).which == "a"
    w = one("/emotion/va", 0.8, 0.5).weights
    assert LABELS[int(np.argmax(w))] == "happy" and w.sum() == pytest.approx(1)
    assert one("/performer/2/emotion/sad", 1).performer == 1


@pytest.mark.parametrize("address, args, message", [
    ("/emotion", (1.0, 2.0), "takes 7 weights in the order normal, happy"),
    ("/emotion", ("furious", 1.0), "unknown emotion 'furious'; this model knows: normal, happy"),
    ("/emotion/furious", (1.0,), "unknown emotion 'furious'"),
    ("/emotion", (float("nan"),) * 7, "NaN"),
    ("/variance", ("lots",), "expected numbers (i or f), got str"),
    ("/variance", (0.0,), "between"),
    ("/sampler", ("wild",), "unknown sampler 'wild'"),
    ("/mode", ("trio",), "unknown mode 'trio'"),
    ("/pose", (1.0, 2.0, 3.0), "mediapipe33 has 33 points"),
    ("/nowhere", (), "unknown address /nowhere"),
    ("/performer/0/emotion", (1,) * 7, "numbered from 1"),
])
def test_bad_input_says_what_is_valid(address, args, message):
    with pytest.raises(ProtocolError) as err:
        interpret(address, args, LABELS, pose_layout="mediapipe33")
    assert message in str(err.value)


def test_pose_inputs():
    c = one("/pose", *np.random.rand(33 * 2), pose_layout="mediapipe33")
    (layout, points, _), = c.poses
    assert layout == "mediapipe33" and points.shape == (33, 3) and (points[:, 2] == 0).all()
    arr = [640, 480, 1] + [0.9] + list(np.random.rand(17 * 3) * 400)
    (pose,) = one("/poses/arr", *arr).poses
    assert pose[0] == "coco17" and pose[1].shape == (17, 3) and pose[1].max() <= 1
    assert interpret("/mediapipe/pose", (0,), LABELS) == []         # "nothing detected"
    assert one("/mediapipe/pose", 1, *np.random.rand(132)).poses[0][0] == "mediapipe33"


def test_normalised_tracker_points_stand_on_the_floor():
    assert to_metres(np.array([[0.5, 1.0, 0.0]]), "normalised")[0, 1] == 0.0   # bottom edge = floor


def test_valence_arousal_needs_known_labels():
    with pytest.raises(ProtocolError, match="valence/arousal"):
        valence_arousal(0, 0, ["salsa"])


def test_live_parameters_are_checked_against_their_one_declaration():
    from bridge.params import PARAMS
    labels = ["normal", "happy"]
    for name, p in PARAMS.items():
        lo, hi = p.range
        (c,) = interpret(f"/{name}", (hi,), labels)
        assert c == SetParam(name, hi)
        with pytest.raises(ProtocolError, match=f"between {lo:g} and {hi:g}"):
            interpret(f"/{name}", (hi * 2 + 1,), labels)
    with pytest.raises(ProtocolError, match="between 0 and 1, got 2"):
        interpret("/mix", (2,), labels)


def test_a_performer_s_own_parameter_goes_to_that_performer_and_a_show_s_is_refused():
    (c,) = interpret("/performer/2/glide", (3.0,), ["normal"], performers=2)
    assert c == SetParam("glide", 3.0, performer=1)
    with pytest.raises(ProtocolError, match="mix is the whole show's"):
        interpret("/performer/2/mix", (0.5,), ["normal"], performers=2)


def test_the_readme_table_is_the_declaration():
    from pathlib import Path
    from bridge.params import markdown
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("<!-- params:begin -->\n")[1].split("<!-- params:end -->")[0]
    assert table == markdown(), "README's live-parameter table is out of date: paste bridge.params.markdown()"


def test_a_parameter_the_model_has_no_use_for_is_refused_with_why():
    why = {"intensity": "this model was trained without guidance (train solo --drop-emotion)"}
    with pytest.raises(ProtocolError, match="/intensity: this model was trained without guidance"):
        interpret("/performer/1/intensity", (2.0,), ["normal"], performers=1, unsupported=why)
    assert interpret("/intensity", (2.0,), ["normal"]) == [SetParam("intensity", 2.0)]


def test_an_action_is_one_the_model_knows_or_none():
    acts = ["bow", "walk", "walk-left"]
    assert one("/action", "walk", actions=acts) == SetAction("walk")
    assert one("/performer/2/action", "Walk-Left", actions=acts) == SetAction("walk-left", performer=1)
    assert one("/action", "none", actions=acts) == SetAction(None)
    assert one("/action", "none") == SetAction(None)            # none is always asked for: nothing to refuse
    with pytest.raises(ProtocolError, match="unknown action 'moonwalk'; this model knows none, bow, walk, walk-left"):
        one("/action", "moonwalk", actions=acts)
    with pytest.raises(ProtocolError, match="not trained on actions"):
        one("/action", "walk")
    with pytest.raises(ProtocolError, match="/action takes one string"):
        one("/action", 3, actions=acts)
