"""Recording live poses into a dataset that `train` accepts, so artists train on their own dancers.

Poses arrive over OSC in any tracker layout (`/pose`, `/poses/arr`, `/mediapipe/pose`) with the
current emotion (`/emotion …`, `/emotion/<label> f`, or `/record/label s`). A fixed-rate clock
samples the latest pose (while it is fresh) so the dataset has a steady frame rate; a clip ends
when the label changes or the tracker loses the dancer. Every second the whole dataset is
written atomically, so a killed recorder loses at most the last second.
"""
from __future__ import annotations

import ipaddress
import logging
import selectors
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.dataset import Clip, assemble
from models.emotions import resolve

from . import osc
from .protocol import ProtocolError, SetEmotion, SetLabel, SetPoseLayout, TrackedPoses, interpret, tracked_pose
from .status import Stats
from .transport import Transport

log = logging.getLogger(__name__)

STALE_S = 0.25        # a pose older than this is a lost dancer, not a still one
MIN_CLIP_FRAMES = 10


@dataclass
class Recorder:
    labels: list[str]
    out: Path
    fps: float = 30.0
    pose_layout: str = "mediapipe33"
    pose_space: str = "normalised"
    label: int = 0
    clips: list[Clip] = field(default_factory=list)
    current: list[np.ndarray] = field(default_factory=list)
    current_label: int = 0
    latest: np.ndarray | None = None
    latest_time: float = -1.0
    errors: int = 0
    written_frames: int = 0

    def handle(self, address: str, args: tuple, now: float) -> None:
        if address == "/record/label":
            if len(args) != 1 or not isinstance(args[0], str):
                raise ProtocolError("/record/label takes one label name")
            try:
                self.label = resolve(args[0], self.labels)
            except ValueError as e:
                raise ProtocolError(str(e)) from None
            return
        for c in interpret(address, args, self.labels, pose_layout=self.pose_layout):
            if isinstance(c, SetEmotion):
                self.label = int(np.argmax(c.weights))
            elif isinstance(c, SetLabel):
                self.label = c.label
            elif isinstance(c, SetPoseLayout):
                self.pose_layout, self.pose_space = c.layout, c.space or self.pose_space
            elif isinstance(c, TrackedPoses):
                for layout, points, space in c.poses[:1]:
                    pose = tracked_pose(layout, points, space or self.pose_space)
                    if np.isfinite(pose).all():      # a pose with joints the tracker lost is no training data
                        self.latest, self.latest_time = pose, now
            else:
                raise ProtocolError(f"{address}: the recorder takes poses and emotions only")

    def sample(self, now: float) -> None:
        """One tick of the recording clock."""
        fresh = self.latest is not None and now - self.latest_time < STALE_S
        if not fresh or self.label != self.current_label:
            self.end_clip()
            self.current_label = self.label
        if fresh:
            self.current.append(self.latest.astype(np.float32))

    def end_clip(self) -> None:
        if len(self.current) >= MIN_CLIP_FRAMES:
            name = f"rec_{len(self.clips):04d}_{self.labels[self.current_label]}"
            self.clips.append(Clip(name, self.labels[self.current_label], np.stack(self.current)[:, None], False))
        self.current = []

    def clips_so_far(self) -> list[Clip]:
        """Every finished clip and the one in progress (cheap: call it under the lock)."""
        clips = list(self.clips)
        if len(self.current) >= MIN_CLIP_FRAMES:
            clips.append(Clip("rec_current", self.labels[self.current_label], np.stack(self.current)[:, None], False))
        return clips

    def write(self, clips: list[Clip]) -> int:
        """Write the dataset atomically (slow: call it outside the lock); returns frames written."""
        frames = sum(len(c.positions) for c in clips)
        if not clips or frames == self.written_frames:
            return self.written_frames
        by_label: dict[str, list[Clip]] = {}
        for c in clips:
            c.heldout = False
            by_label.setdefault(c.label, []).append(c)
        for group in by_label.values():   # as `data build` does for a folder: hold out one of three
            if len(group) >= 3:
                group[-1].heldout = True
        assemble(clips, self.fps, f"record {self.out.name}", self.labels).save(self.out)
        self.written_frames = frames
        return frames


def run(recorder: Recorder, host: str, port: int, stop: threading.Event, on_second=None) -> None:
    """Receive on (host, port) until `stop`; sample at the recorder's fps; save every second. The
    daemon's transport does the receiving: the same limits per sender, errors answered the same way
    (never larger than the request, at most a few a second)."""
    stats = Stats()
    anyone = [ipaddress.ip_network("0.0.0.0/0")]       # a tracker may be on another machine: --host says
    transport = Transport(host, port, (host, 9), anyone, budget=10_000, subscribers=0, subscription_s=1.0,
                          stats=stats)
    lock = threading.Lock()

    def saver() -> None:
        while not stop.wait(1.0):
            with lock:
                clips = recorder.clips_so_far()
            frames = recorder.write(clips)
            if on_second:
                on_second(recorder, frames)

    def handle(datagram: bytes, sender: tuple[str, int]) -> None:
        try:
            for m in osc.parse(datagram):
                with lock:
                    recorder.handle(m.address, m.args, time.perf_counter() - start)
        except (osc.OscError, ProtocolError) as e:
            recorder.errors += 1
            transport.error(sender, str(e), "bad input")
        except Exception:            # a recording must not end on one odd packet
            recorder.errors += 1
            log.exception("record: unexpected error on a packet from %s", sender)

    thread = threading.Thread(target=saver, name="record-save", daemon=True)
    thread.start()
    waiting = selectors.DefaultSelector()
    waiting.register(transport.sock, selectors.EVENT_READ)
    period, start = 1.0 / recorder.fps, time.perf_counter()
    tick = 0
    try:
        while not stop.is_set():
            now = time.perf_counter() - start
            if now >= tick * period:
                with lock:
                    recorder.sample(now)
                tick += 1
            if waiting.select(timeout=max(0.0, tick * period - now)):
                transport.take(256, time.perf_counter() + period / 4, handle)
    finally:
        stop.set()
        thread.join(timeout=5)
        waiting.close()
        recorder.end_clip()
        recorder.write(recorder.clips_so_far())
        transport.close()
