"""The frame loop driven by an offline clock: a whole run of frames, with no sleeping and no sockets."""
import threading
import time

import numpy as np
import pytest

from bridge import osc
from bridge.clock import OfflineClock
from bridge.engine import Engine
from bridge.output import OutputFormat
from bridge.protocol import interpret
from bridge.runner import Runner
from bridge.status import Stats
from models.solo.live import SoloLive


@pytest.fixture
def show(solo_model):
    model, meta = solo_model
    engine = Engine(SoloLive(model, meta, performers=2), fps=30, glide=0.5)
    sent: list[list[bytes]] = []
    return engine, Runner(engine, OutputFormat("canonical", "metres", False), Stats(), OfflineClock(30), sent.append), sent


def test_ninety_frames_go_out_in_order_without_waiting_for_the_clock(show, monkeypatch):
    engine, runner, sent = show
    slept = []                  # a frame clock waits by sleeping: offline, nothing may (whatever the load)
    monkeypatch.setattr(time, "sleep", lambda s: slept.append(s))
    runner.run(threading.Event(), frames=90)
    assert slept == []
    assert runner.stats.frames == 90 and len(sent) == 90 and runner.stats.missed == 0
    numbers = [next(m.args[0] for m in osc.parse(b) if m.address == "/motion/frame") for b, *_ in sent]
    assert numbers == list(range(90))


def test_a_command_taken_as_a_frame_starts_lands_in_that_frame_and_glides(show):
    engine, runner, sent = show
    commands = interpret("/emotion", [0.0, 1.0, 0, 0, 0, 0, 0], engine.labels, None, engine.pose_layout,
                         engine.performers)
    runner.pending = lambda until: [engine.submit(c) for c in commands] if runner.stats.frames == 30 else None
    frames, tick = [], engine.tick
    engine.tick = lambda *a, **k: frames.append(tick(*a, **k)) or frames[-1]
    runner.run(threading.Event(), frames=60)
    happy = [f.emotion[0, engine.labels.index("happy")] for f in frames]
    assert happy[29] == 0 and happy[30] == pytest.approx(1 / 15)     # in the very frame it was taken for
    assert happy[37] == pytest.approx(8 / 15) and happy[44:] == pytest.approx([1.0] * 16)   # glide: 0.5 s
    assert runner.stats.failed == 0


def test_a_step_that_keeps_failing_resets_the_dancers_and_the_show_goes_on(show):
    engine, runner, sent = show
    broken = {"left": 4}
    real_step = engine.generator.step

    def step(condition):
        if broken["left"]:
            broken["left"] -= 1
            raise FloatingPointError("a step that fails")
        return real_step(condition)
    engine.generator.step = step
    runner.run(threading.Event(), frames=20)
    assert runner.stats.failed == 4 and runner.stats.frames == 20
    assert runner.stats.errors["internal"] == 4 and np.isfinite(runner.last_frame.positions).all()
