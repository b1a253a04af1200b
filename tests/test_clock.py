import time

import pytest

from bridge.clock import FrameClock, OfflineClock


def test_offline_clock_steps_on_a_fixed_grid():
    clock = OfflineClock(30)
    ticks = [clock.wait() for _ in range(4)]
    assert [t.index for t in ticks] == [0, 1, 2, 3]
    assert [round(t.deadline * 30, 6) for t in ticks] == [0, 1, 2, 3]


def test_changing_fps_keeps_the_grid_continuous():
    clock = OfflineClock(10)
    clock.wait(), clock.wait()          # frames 0 and 1 at 0.0 and 0.1
    clock.set_fps(20)
    assert abs(clock.wait().deadline - 0.2) < 1e-9
    assert abs(clock.wait().deadline - 0.25) < 1e-9


def test_a_stall_is_counted_as_missed_frames_not_a_burst():
    clock = FrameClock(100)
    clock.wait()
    time.sleep(0.055)                   # five and a half periods
    tick = clock.wait()
    assert tick.missed >= 4
    assert tick.index == 1 + tick.missed
    # the next frame is due on the grid again, not straight away
    assert clock.wait().late < 0.01


def test_a_frame_woken_early_is_held_until_its_deadline():
    clock = FrameClock(10)
    clock.wait()
    tick = clock.wait(early=0.05)
    assert tick.deadline == pytest.approx(0.1)
    clock.until(tick.deadline)
    assert clock.now() >= tick.deadline          # never sent before it is due
