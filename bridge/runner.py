"""The frame loop: wait on the clock, take the commands that arrived in time, step the engine,
send the frame on its deadline, settle.

The clock is given, not made: `FrameClock` for a show, `OfflineClock` for a test or a render, in
which case a whole run of frames goes by with no sleeping. So are the two ends that touch the
world: `pending(until)` takes the last datagrams still waiting as a frame starts, and
`send(datagrams)` puts the frame on the wire. Nothing here logs except onto the log queue, formats
a status, or writes a file.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from .clock import FrameClock, Tick
from .engine import Engine, Frame
from .output import OutputFormat
from .status import Stats

PENDING_S = 0.0005                # the frame takes waiting datagrams for at most this long as it starts
LEAD_START = 0.005                # seconds before a deadline the first frames are computed
REHEARSAL_START = 0.003           # seconds before the lead the first frames are rehearsed
LATE_ALLOWANCE = 0.001            # seconds the slowest 1 % of steps may send their frame late
RESET_AFTER = 3                   # frames failed in a row before the dancers are reset to recover


def percentile(values, q: float) -> float:
    values = list(values)           # a copy taken at once: another thread may be appending
    return float(np.percentile(values, q)) if values else 0.0


class Runner:
    def __init__(self, engine: Engine, output: OutputFormat, stats: Stats, clock: FrameClock,
                 send: Callable[[list[bytes]], None], pending: Callable[[float], None] = lambda until: None,
                 publish: Callable[[Frame], None] | None = None):
        self.engine, self.output, self.stats, self.clock = engine, output, stats, clock
        self.send, self.pending, self.publish = send, pending, publish
        # Held while a frame is computed, and by the receive thread while it handles a datagram
        # (see Daemon._receive_loop): the two both take datagrams, and this keeps them in order.
        self.lock = threading.Lock()
        self.next_start = 0.0                # perf_counter() time the next frame starts (its rehearsal)
        self.lead = LEAD_START
        self.rehearsal = REHEARSAL_START
        self.last_frame: Frame | None = None
        self.beat = time.monotonic()         # when the loop last made progress (for the watchdog)

    def run(self, stop: threading.Event, frames: int | None = None) -> None:
        """Make frames until `stop` is set (or `frames` have been made)."""
        clock, last_sent, failures = self.clock, None, 0
        self.beat = time.monotonic()
        while not stop.is_set() and (frames is None or self.stats.frames < frames):
            try:
                tick = clock.wait(stop, early=self.lead + self.rehearsal)
                if stop.is_set():
                    break
                self.stats.missed += tick.missed
                frame, datagrams, sent = self.frame(tick, stop)
                failures = 0
            except Exception as e:   # a failed step skips one frame; the show goes on
                self.stats.failed += 1
                failures += 1
                self.stats.internal(f"frame {clock.index - 1}", e)
                if failures % RESET_AFTER == 0:     # the same failure again and again: start afresh
                    self.recover()
                continue
            self.beat = time.monotonic()
            if last_sent is not None:
                self.stats.intervals.append(sent - last_sent)
            last_sent = sent
            self.stats.messages_out += len(datagrams)
            self.stats.frames += 1
            self.last_frame = frame
            if self.engine.pending_fps:
                clock.set_fps(self.engine.pending_fps)
                self.engine.fps, self.engine.pending_fps = self.engine.pending_fps, None
            self.next_start = clock.next_deadline() - self.lead - self.rehearsal

    def recover(self) -> None:
        try:
            self.engine.generator.reset()
        except Exception as e:
            self.stats.internal("frames: reset", e)

    def frame(self, tick: Tick, stop: threading.Event) -> tuple[Frame, list[bytes], float]:
        """Rehearse, compute in the lead before the deadline, send on it, settle: how long a step
        takes moves when a frame is made, not when it arrives."""
        clock = self.clock
        if self.rehearsal:
            rehearsed = time.perf_counter()
            self.engine.rehearse()
            self.stats.rehearsals.append(time.perf_counter() - rehearsed)
        clock.until(tick.deadline - self.lead, stop)
        started = time.perf_counter()
        # From here until the frame has left the receive thread waits. A step is a few hundred
        # small torch ops, each of which lets go of the GIL, and a flood being parsed would take
        # it at every one (and again when the frame is due to leave): the frame would stretch by
        # milliseconds. A command that arrives now misses this frame either way, so holding it
        # back until the frame has left costs it nothing. (Reading, not parsing, during the step
        # was tried too: under 50,000 datagrams a second it cost 3-8 % of frames; `bench fuzz`.)
        with self.lock:
            # Datagrams that arrived while the receive thread was still waking (on a virtual
            # machine that can take a few tenths of a millisecond) are taken now, so a command
            # sent just before the frame started makes it: only small ones, briefly.
            self.pending(started + PENDING_S)
            frame = self.engine.tick(tick.deadline, on_error=self._command_failed)
            datagrams = self.output.encode(frame)
            self.stats.steps.append(time.perf_counter() - started)
            clock.until(tick.deadline, stop)
            sent = time.perf_counter()
            self.send(datagrams)
            self.engine.settle()      # what the next frame needs, once this one has left
        if self.publish is not None:  # the web view: a reference handed over, never a wait
            self.publish(frame)
        return frame, datagrams, sent

    def _command_failed(self, command, error: Exception) -> None:
        # commands are validated on the receive thread: one that fails here is our bug, not the sender's
        self.stats.internal(f"command {type(command).__name__}", error)

    def adjust(self) -> None:
        """Size the lead and the rehearsal from the steps measured so far (the status thread calls
        this once a second)."""
        period = 1.0 / self.engine.fps
        self.lead = self._lead(period)
        self.rehearsal = self._rehearsal(period)

    def _lead(self, period: float) -> float:
        """How early to start a frame. A change that arrives during the lead waits for the next
        frame, so the lead is as short as steady frames allow: long enough for a typical step, and
        for all but the slowest 1 % of steps to send their frame at most LATE_ALLOWANCE late
        (jitter a receiver does not notice; a frame later by the whole lead, it would)."""
        steps = list(self.stats.steps)
        if not steps:
            return LEAD_START
        typical, slow = np.percentile(steps, [50, 99])
        return float(min(period / 2, max(typical, slow - LATE_ALLOWANCE)))

    def _rehearsal(self, period: float) -> float:
        """How long before the lead to rehearse (see Engine.rehearse): as long as the slowest
        rehearsals take, since one that ran into the lead would delay the step. None at all (0)
        where that would not fit in the half period the lead leaves idle: frames that close
        together keep the caches warm anyway."""
        if not self.stats.rehearsals:
            return REHEARSAL_START
        slow = percentile(self.stats.rehearsals, 99)
        return slow if self.lead + slow <= period / 2 else 0.0
