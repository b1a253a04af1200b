"""Play motion to a daemon as a tracker would: a BVH, a .npy or a salsa take, sent as /pose frames.

So an artist can try partner mode without a camera, and the tests can drive it through real UDP.
3-D layouts go as metres, as a depth tracker (or MediaPipe's world landmarks) would; `image` turns the
body into what a webcam tracker sees: the picture of a level camera at the front of the stage, in
normalised image coordinates, 2-D. A tracker's faults can be added: `jitter` (Gaussian, metres) and
`drop` (each joint, each frame, is missing with this probability, sent as 0, 0 as trackers do).
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from models import skeleton

from . import osc
from .clock import FrameClock

PICTURE_M = 2.6        # metres of stage the picture spans from top to bottom (and, square, across)


@dataclass
class ReplayConfig:
    layout: str = "mediapipe33"       # the tracker layout sent: canonical, mediapipe33, coco17, body25, kinect25
    image: bool = False               # 2-D image coordinates (a webcam tracker) instead of 3-D metres
    jitter: float = 0.0               # metres of Gaussian noise on every point
    drop: float = 0.0                 # chance that a point is missing in a frame
    fps: float = 30.0
    seconds: float = 0.0              # 0: the whole clip once
    loop: bool = False                # play the clip again and again (seconds still bounds it)
    seed: int = 0

    def check(self) -> None:
        skeleton.layout_names(self.layout)
        if not (0 <= self.drop <= 1 and self.jitter >= 0 and 1 <= self.fps <= 240 and self.seconds >= 0):
            raise ValueError("replay: drop in [0, 1], jitter ≥ 0, fps 1-240, seconds ≥ 0")


def picture(points: np.ndarray) -> np.ndarray:
    """Points (K, 3) in metres → a front camera's picture, (K, 2) in [0, 1], y down: the stage centre
    in the middle, the floor at the bottom edge."""
    return np.stack([0.5 + points[:, 0] / PICTURE_M, 1.0 - points[:, 1] / PICTURE_M], axis=1)


class Replay:
    """The tracker's messages for each frame of a clip (T, 21, 3)."""

    def __init__(self, positions: np.ndarray, config: ReplayConfig):
        config.check()
        self.positions, self.config = positions, config
        self.rng = np.random.default_rng(config.seed)

    def __len__(self) -> int:
        c = self.config
        clip = len(self.positions)
        if c.seconds:
            return int(round(c.seconds * c.fps)) if c.loop else min(clip, int(round(c.seconds * c.fps)))
        return clip

    def layout_message(self) -> bytes:
        return osc.message("/pose/layout", self.config.layout, "normalised" if self.config.image else "metres")

    def pose(self, t: int) -> np.ndarray:
        """Frame t's points as sent: (K, 2) or (K, 3), missing ones at 0."""
        c = self.config
        pose = self.positions[t % len(self.positions)]
        points = skeleton.to_layout(pose[None], c.layout)[0].astype(np.float64)
        if c.jitter:
            points = points + self.rng.normal(0.0, c.jitter, points.shape)
        if c.image:
            points = picture(points)
        if c.drop:
            points[self.rng.random(len(points)) < c.drop] = 0.0
        return points

    def message(self, t: int) -> bytes:
        return osc.message("/pose", self.pose(t).ravel().astype(np.float32))


def send(replay: Replay, target: tuple[str, int], stop: threading.Event | None = None,
         clock: FrameClock | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Stream the replay to `target` on a steady clock (the layout first and every second after,
    as UDP may lose it). Returns the frames sent."""
    clock = clock or FrameClock(replay.config.fps)
    every = max(1, int(replay.config.fps))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for t in range(len(replay)):
            clock.wait(stop)
            if stop is not None and stop.is_set():
                return t
            if t % every == 0:
                sock.sendto(replay.layout_message(), target)
            sock.sendto(replay.message(t), target)
            if progress:
                progress(t + 1)
    return len(replay)
