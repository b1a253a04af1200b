import socket
import subprocess
import sys
import threading
import time

import pytest

from bridge import clock as clock_module
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


def test_the_last_stretch_of_a_wait_lets_other_threads_run(monkeypatch):
    # The receive thread must be able to take a command while the frame thread spins towards a
    # deadline. With forced GIL switches rare (every 5 s), a spin that held the GIL would keep
    # it out until the deadline had passed.
    monkeypatch.setattr(clock_module, "SPIN_S", 10.0)     # make the whole wait a spin
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    got = threading.Event()
    thread = threading.Thread(target=lambda: (receiver.recvfrom(16), got.set()), daemon=True)
    thread.start()
    # a sender in another process, so that it sends while this thread spins
    sender = subprocess.Popen([sys.executable, "-c", "import socket; socket.socket(socket.AF_INET, "
                               f"socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', {receiver.getsockname()[1]}))"])
    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    try:
        clock = FrameClock(30)
        clock.until(clock.now() + 1.0)
        assert got.is_set()                               # it ran while the clock spun
    finally:
        sys.setswitchinterval(interval)
        sender.wait(5)
        thread.join(5)
        receiver.close()
