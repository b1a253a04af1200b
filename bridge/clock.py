"""Frame clocks: when the next frame is due.

`FrameClock` keeps deadlines on a fixed grid (start + n · period) on the monotonic clock, so
small lateness never accumulates into drift; when a frame is so late that whole periods have
passed, those frames are counted as missed and skipped rather than rushed out in a burst.
It sleeps for most of the wait and spins for the last stretch, because a plain sleep on a busy
machine wakes a millisecond or more late. `OfflineClock` jumps from deadline to deadline at
once, for tests and offline renders.

A frame can be woken `early` and then held with `until(deadline)`: the daemon computes a frame
in the lead before its deadline and sends it on the deadline, so the time a step takes (which
varies with the machine's load) moves when frames are computed, not when they arrive.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

SPIN_S = 0.0015


@dataclass
class Tick:
    index: int          # frame number
    deadline: float     # seconds since the clock started when this frame was due
    late: float         # seconds after the deadline that the frame began
    missed: int         # frames skipped just before this one


class FrameClock:
    def __init__(self, fps: float):
        self.start = time.perf_counter()
        self._anchor, self._anchor_index = 0.0, 0
        self.period = 1.0 / fps
        self.index = 0

    def set_fps(self, fps: float) -> None:
        """Change rate from the next frame on, keeping the grid continuous."""
        self._anchor = self._anchor + (self.index - self._anchor_index) * self.period
        self._anchor_index = self.index
        self.period = 1.0 / fps

    def _deadline(self, index: int) -> float:
        return self._anchor + (index - self._anchor_index) * self.period

    def next_deadline(self) -> float:
        """When the next frame is due, in time.perf_counter() seconds."""
        return self.start + self._deadline(self.index)

    def now(self) -> float:
        return time.perf_counter() - self.start

    def until(self, t: float, stop=None) -> None:
        """Return at clock time t: sleep most of the way, spin the last stretch."""
        while True:
            remaining = t - self.now()
            if remaining <= 0 or (stop is not None and stop.is_set()):
                return
            if remaining > SPIN_S:
                time.sleep(remaining - SPIN_S)
            else:
                # spin, but let go of the GIL at every turn: a spin that held it would keep the
                # receive thread from a command arriving just now, and the command would miss the
                # frame it was in time for. sched_yield returns at once; sleep(0) would cost
                # tens of microseconds of timer slack at every turn.
                os.sched_yield()

    def wait(self, stop=None, early: float = 0.0) -> Tick:
        """The next frame's tick, returned `early` seconds before its deadline."""
        deadline = self._deadline(self.index)
        self.until(deadline - early, stop)
        now = self.now()
        missed = max(0, int((now + early - deadline) / self.period))
        if missed:
            self.index += missed
            deadline = self._deadline(self.index)
        tick = Tick(self.index, deadline, now + early - deadline, missed)
        self.index += 1
        return tick


class OfflineClock(FrameClock):
    """Every frame exactly on time, without waiting."""

    def until(self, t: float, stop=None) -> None:
        pass

    def wait(self, stop=None, early: float = 0.0) -> Tick:
        tick = Tick(self.index, self._deadline(self.index), 0.0, 0)
        self.index += 1
        return tick
