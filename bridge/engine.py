"""The engine: the single writer of show state, stepped once per frame.

Transports (OSC, MIDI) only append commands to a queue; `tick` drains it at the start of a
frame, so a change lands in the next frame, and then steps all performers in one batched
forward pass. Emotion changes glide: the conditioning moves linearly from where it was to the
new target over `glide` seconds, so the body transitions instead of snapping.
"""
from __future__ import annotations

import collections
import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from models.emotions import resolve
from models.live import Condition, Live, Tracked
from models.sampling import SamplingParams

from .params import PARAMS
from .protocol import (Command, Reseed, Reset, SetAction, SetEmotion, SetLabel, SetMode, SetParam, SetPoseLayout,
                       SetPreset, TrackedPoses, tracked_pose)

log = logging.getLogger(__name__)


@dataclass
class Frame:
    index: int
    time: float                 # seconds since the show started, at the frame's deadline
    positions: np.ndarray       # (bodies, 21, 3) world metres, canonical: each performer's roles in turn
    recognised: np.ndarray      # (P, L) emotion the head reads in the generated motion, up to the frame before
    emotion: np.ndarray         # (P, L) conditioning this frame (after glide)


class Engine:
    def __init__(self, generator: Live, fps: float = 30.0, glide: float = 1.0,
                 params: SamplingParams = SamplingParams(), pose_layout: str = "canonical",
                 pose_space: str = "normalised"):
        self.generator = generator
        self.labels = generator.labels
        P, L = generator.performers, len(self.labels)
        self.fps = fps
        self.glide = np.full(P, float(glide))   # seconds, each performer's own
        self.params = [dataclasses.replace(params) for _ in range(P)]
        start = np.zeros((P, L))
        start[:, 0] = 1.0                       # the first label: "normal" for the shipped model
        self.target = start.copy()
        self.current = start.copy()
        self._glide_from = start.copy()
        self._glide_t = np.zeros(P)             # seconds into each performer's current glide
        self.presets = {"a": start.copy(), "b": start.copy()}
        self.mix = 0.0
        self.show = {p.name: p.default for p in PARAMS.values() if p.default is not None}
        self.mode = generator.modes[0]
        self.actions: list[str | None] = [None] * P    # what each body is asked to do (/action); none at first
        self.pose_layout, self.pose_space = pose_layout, pose_space
        self._fresh: dict[int, tuple] = {}      # performer → a pose that came since the last frame
        self.poses_received = 0
        self.queue: collections.deque[Command] = collections.deque()
        self.frame = 0
        self.pending_fps: float | None = None

    @property
    def performers(self) -> int:
        return self.generator.performers

    @property
    def bodies(self) -> int:
        """Bodies streamed each frame: every performer's roles (a dancer; or a lead and a partner)."""
        return self.generator.performers * len(self.generator.roles)

    def submit(self, command: Command) -> None:
        """Thread-safe (deque.append is atomic): called by transports, applied at the next tick."""
        self.queue.append(command)

    def _targets(self, performer: int | None) -> range | list[int]:
        if performer is None:
            return range(self.performers)
        if performer >= self.performers:
            raise ValueError(f"performer {performer + 1} does not exist; this show has {self.performers}")
        return [performer]

    def _set_target(self, rows, weights: np.ndarray) -> None:
        for p in rows:
            self._glide_from[p] = self.current[p]
            self._glide_t[p] = 0.0
            self.target[p] = weights

    def apply(self, c: Command) -> None:
        rows = self._targets(c.performer)
        match c:
            case SetEmotion(weights=weights):
                self._set_target(rows, weights)
            case SetLabel(label=label, weight=weight):
                index = resolve(label, self.labels) if isinstance(label, str) else label
                for p in rows:
                    w = self.target[p].copy()
                    w[index] = weight
                    self._set_target([p], w / w.sum() if w.sum() > 0 else self.target[p])
            case SetPreset(which=which, weights=weights):
                self.presets[which] = weights
                self._set_target(rows, self._mixed())
            case SetParam(name="mix", value=value):
                self.mix = value
                self._set_target(rows, self._mixed())
            case SetParam(name="fps", value=value):
                self.pending_fps = value
            case SetParam(name="glide", value=value):
                self.glide[list(rows)] = value
            case SetParam(name=name, value=value) if name in self.show:
                self.show[name] = value
            case SetParam(name=name, value=value):
                for p in rows:
                    self.params[p] = dataclasses.replace(self.params[p], **{name: value})
            case SetAction(action=action):
                if action is not None and action not in self.generator.actions:
                    raise ValueError(f"action {action} is not one this model knows")
                for p in rows:
                    self.actions[p] = action
            case SetMode(mode=mode):
                if mode not in self.generator.modes:
                    hint = "" if len(self.generator.modes) > 1 else " (serve --partner plays partner and duet)"
                    raise ValueError(f"mode {mode} is not one this show plays; it plays "
                                     f"{', '.join(self.generator.modes)}{hint}")
                self.mode = mode
            case Reset():
                self.generator.reset()
            case Reseed(seed=seed):
                self.generator.seed(seed)
            case SetPoseLayout(layout=layout, space=space):
                self.pose_layout = layout
                self.pose_space = space or self.pose_space
            case TrackedPoses(poses=poses):
                # one pose for one performer, or several (a multi-person tracker) for performers 1, 2, …
                first = c.performer or 0
                for k, (layout, points, space) in enumerate(poses[:self.performers - first]):
                    pose = (layout, points, space or self.pose_space)
                    self._fresh[first + k] = pose
                self.poses_received += 1
            case _:
                raise ValueError(f"unknown command {type(c).__name__}")

    def _fresh_poses(self) -> list[Tracked | None]:
        """The poses that came since the last frame, per performer, converted; then forgotten."""
        poses: list[Tracked | None] = [None] * self.performers
        if self.mode == "partner":               # only a partner reads them: no work otherwise
            for p, (layout, points, space) in self._fresh.items():
                poses[p] = Tracked(tracked_pose(layout, points, space), space == "normalised")
        self._fresh.clear()
        return poses

    def value(self, name: str, performer: int = 0) -> float:
        """A live parameter's present value (bridge.params), for `performer` where it is theirs."""
        if name in self.show:
            return self.show[name]
        if name == "mix":
            return self.mix
        if name == "fps":
            return self.fps
        if name == "glide":
            return float(self.glide[performer])
        return getattr(self.params[performer], name)

    def current_values(self) -> dict[str, float]:
        """Present values of what MIDI controls can move (performer 1's), for pick-up."""
        values = {name: self.value(name) for name in PARAMS}
        values.update({f"emotion/{name}": float(self.target[0, i]) for i, name in enumerate(self.labels)})
        return values

    def _mixed(self) -> np.ndarray:
        return (1 - self.mix) * self.presets["a"] + self.mix * self.presets["b"]

    def drain(self, on_error=None) -> int:
        """Apply every queued command. Commands come validated (protocol.interpret), so none should
        fail; one that does is skipped, goes to on_error(command, exception), and costs nothing
        else: the rest are applied and the frame is made."""
        n = 0
        while self.queue:
            c = self.queue.popleft()
            n += 1
            try:
                self.apply(c)
            except Exception as e:
                if on_error:
                    on_error(c, e)
                else:
                    log.warning("command %s failed: %s", type(c).__name__, e)
        return n

    def tick(self, time: float, on_error=None) -> Frame:
        """Drain commands, glide the emotions, step every performer once."""
        self.drain(on_error)
        dt = 1.0 / self.fps
        self._glide_t += dt
        t = np.clip(self._glide_t / np.maximum(self.glide, 1e-9), 0.0, 1.0)     # a glide of 0 lands at once
        self.current = self._glide_from + (self.target - self._glide_from) * t[:, None]
        condition = Condition(self.current, self.params, self._fresh_poses(), self.mode, self.show, list(self.actions))
        positions = self.generator.step(condition)
        frame = Frame(self.frame, time, positions, self.generator.recognised, self.current.copy())
        self.frame += 1
        return frame

    def rehearse(self) -> None:
        """Warm the CPU's caches for the next tick, changing nothing (see models.live.Live.rehearse)."""
        self.generator.rehearse()

    def settle(self) -> None:
        """The bookkeeping a frame leaves for the next (see models.live.Live.settle): call it once the
        frame has been sent; the next tick does it first otherwise."""
        self.generator.settle()
