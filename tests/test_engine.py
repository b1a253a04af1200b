import numpy as np
import pytest

from bridge.engine import Engine
from bridge.protocol import SetAction, SetEmotion, SetMode, SetParam, SetPreset
from models.solo.live import SoloLive


@pytest.fixture
def engine(solo_model):
    model, meta = solo_model
    return Engine(SoloLive(model, meta, performers=2), fps=30, glide=1.0)


def test_emotion_changes_glide_over_the_glide_time(engine):
    happy = np.eye(7)[1]
    engine.submit(SetEmotion(happy))
    seen = [engine.tick(t / 30).emotion[0, 1] for t in range(40)]
    assert seen[0] == pytest.approx(1 / 30, abs=1e-6)        # the change starts at the very next frame
    assert 0.45 < seen[14] < 0.55                             # halfway after half a second
    assert seen[29] == pytest.approx(1.0) and seen[39] == pytest.approx(1.0)


def test_commands_for_one_performer_leave_the_other(engine):
    engine.glide[:] = 0
    engine.submit(SetEmotion(np.eye(7)[2], performer=1))
    engine.submit(SetParam("variance", 7.0, performer=1))
    frame = engine.tick(0.0)
    assert frame.emotion[0, 0] == 1 and frame.emotion[1, 2] == 1
    assert engine.params[0].variance != 7.0 and engine.params[1].variance == 7.0


def test_presets_crossfade_with_mix(engine):
    engine.glide[:] = 0
    engine.submit(SetPreset("a", np.eye(7)[1]))
    engine.submit(SetPreset("b", np.eye(7)[3]))
    engine.submit(SetParam("mix", 0.25))
    np.testing.assert_allclose(engine.tick(0).emotion[0, [1, 3]], [0.75, 0.25])


def test_unavailable_mode_and_missing_performer_are_reported(engine):
    errors = []
    engine.submit(SetMode("partner", sender=("127.0.0.1", 9)))
    engine.submit(SetEmotion(np.eye(7)[1], performer=5))
    engine.submit(SetAction("walk"))                          # a mapping file's button, say: this model takes none
    engine.tick(0, on_error=lambda c, e: errors.append(str(e)))
    assert "mode partner is not one this show plays" in errors[0] and "serve --partner" in errors[0] and "performer 6 does not exist" in errors[1]
    assert errors[2] == "action walk is not one this model knows" and engine.actions == [None, None]


def test_batched_performers_move_and_stay_human(engine):
    frames = [engine.tick(t / 30).positions for t in range(90)]
    p = np.stack(frames)
    assert p.shape == (90, 2, 21, 3) and np.isfinite(p).all()
    assert np.linalg.norm(np.diff(p, axis=0), axis=-1).mean() > 1e-3   # not frozen
    assert (p[:, :, 4, 1] > p[:, :, 0, 1]).mean() > 0.95              # head above pelvis


def test_glide_is_each_performer_s_own(engine):
    engine.submit(SetParam("glide", 0.0, performer=1))
    engine.submit(SetEmotion(np.eye(7)[1]))
    frame = engine.tick(0.0)
    assert frame.emotion[1, 1] == pytest.approx(1.0)          # performer 2: at once
    assert frame.emotion[0, 1] == pytest.approx(1 / 30)       # performer 1: still its 1 s glide
