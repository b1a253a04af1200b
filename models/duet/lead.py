"""The lead a partner dances with, made fit to follow: a tracked human, cleaned.

Trackers give what they see: joints that vanish or come back with a low score, jitter, and on a
stage with several people, a jump when the tracker takes up someone else. Before the partner sees
a pose, `TrackedLead` fills the missing joints (from where they last were on the body), smooths the
pose with a One Euro filter (Casiez et al. 2012: a low-pass whose cutoff rises with speed, so a body
at rest stays still and a fast move lags little; its two parameters are live controls), and eases
any jump: the lead it reports moves from where it was to the new body over `ease` seconds instead of
teleporting. The same easing joins a generated lead to a human who comes back, and the other way.

Pure numpy, one instance per pair; the frame clock's time is its time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import skeleton

MIN_SEEN = 0.5          # of the joints: a pose with fewer present is no pose (the tracker lost the body)
TORSO = ("pelvis", "neck")


@dataclass
class LeadConfig:
    leave_after: float = 2.0     # seconds without a pose before the human counts as gone
    ease: float = 1.0            # seconds a jump (or a change of who leads) takes to blend away
    jump: float = 0.6            # metres the root may move between two poses before it is a jump
    plane: float = 1.5           # metres in front of the stage centre that an image (2-D) pose stands


class OneEuro:
    """One Euro filter over an array of values, all sharing the two parameters."""

    def __init__(self, cutoff: float = 1.0, beta: float = 0.5, d_cutoff: float = 1.0):
        self.cutoff, self.beta, self.d_cutoff = cutoff, beta, d_cutoff
        self.value: np.ndarray | None = None
        self.speed: np.ndarray | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self, value: np.ndarray | None = None) -> None:
        self.value = None if value is None else value.copy()
        self.speed = None if value is None else np.zeros_like(value)

    def __call__(self, x: np.ndarray, dt: float) -> np.ndarray:
        if self.value is None:
            self.reset(x)
            return x.copy()
        speed = (x - self.value) / dt
        a = self._alpha(self.d_cutoff, dt)
        self.speed = a * speed + (1 - a) * self.speed
        # one cutoff per joint, from that joint's speed: a still foot is not unsettled by a waving hand
        cutoff = self.cutoff + self.beta * np.linalg.norm(self.speed, axis=-1, keepdims=True)
        a = self._alpha(cutoff, dt)
        self.value = a * x + (1 - a) * self.value
        return self.value.copy()


def image_scale(pose: np.ndarray, rest: np.ndarray) -> float | None:
    """How much an image pose (canonical joints) must grow to have the rest pose's torso; None when
    the torso was not seen."""
    a, b = (skeleton.INDEX[n] for n in TORSO)
    seen = float(np.linalg.norm(pose[b] - pose[a]))
    return float(np.linalg.norm(rest[b] - rest[a])) / seen if np.isfinite(seen) and seen > 1e-6 else None


def place_image(pose: np.ndarray, scale: float, plane: float) -> np.ndarray:
    """A pose from image coordinates (canonical joints, metres only in name: the picture's height was
    taken for 1.7 m, and a body's depth is flat or guessed) → a body of the canonical size (`scale`,
    from `image_scale`) standing on the floor, on the vertical plane `plane` metres in front of the
    stage centre (towards the camera, +Z), its place across the stage kept in proportion.
    The assumption: one camera, level, facing the stage from the front. A person further away looks
    smaller in the picture but is scaled back to a full-size body, so only their place across the
    stage and their pose are read from it, not their distance."""
    out = pose * scale
    out[:, 1] -= np.nanmin(out[:, 1])          # the lowest point (a foot) on the floor
    out[:, 2] += plane
    return out


class TrackedLead:
    """One pair's lead: the last tracked pose, filled, smoothed and eased; or, once the human is gone
    (`present` is False), whatever the caller leads with instead, eased in the same way."""

    def __init__(self, config: LeadConfig, rest: np.ndarray, fps: float):
        self.config, self.rest, self.dt = config, rest.astype(np.float64), 1.0 / fps
        self.filter = OneEuro()
        self.scale = 1.0                          # an image pose's last scale to the canonical body
        self.last: np.ndarray | None = None       # the last tracked pose, filled (before smoothing)
        self.unseen = np.inf                      # seconds since a pose came
        self.jumped = False                       # a jump since the last `show`
        self.jumps = 0
        self.source = ""                          # who led the last reported frame
        self.shown: np.ndarray | None = None      # the lead as last reported
        self.offset = np.zeros_like(self.rest)    # (reported − new) when the easing began
        self.applied = np.zeros_like(self.rest)   # the part of it added last frame
        self.eased = np.inf                       # seconds into the easing
        self.slide = np.zeros(2)                  # metres (x, z) the easing moved the lead's root this frame

    @property
    def present(self) -> bool:
        return self.unseen <= self.config.leave_after

    def tracked(self, pose: np.ndarray | None, image: bool, cutoff: float, beta: float) -> np.ndarray | None:
        """Advance one frame with this frame's pose (J, 3; NaN rows for missing joints; `image`: from
        image coordinates), or None when none came. Returns the cleaned human while they are
        present, else None."""
        self.unseen += self.dt
        if pose is not None and np.isfinite(pose).all(axis=1).mean() >= MIN_SEEN:
            if image:
                self.scale = image_scale(pose, self.rest) or self.scale    # torso unseen: as it was
                pose = place_image(pose, self.scale, self.config.plane)
            filled = self._fill(pose)
            fresh = not self.present
            if not fresh and np.linalg.norm((filled[0] - self.last[0])[[0, 2]]) > self.config.jump:
                self.jumps += 1                   # someone else: their own filter, eased over
                self.jumped = fresh = True
            if fresh:
                self.filter.reset()
            self.last, self.unseen = filled, 0.0
        if not self.present:
            return None
        self.filter.cutoff, self.filter.beta = cutoff, beta
        if self.unseen == 0.0:
            return self.filter(self.last, self.dt)
        return self.filter.value.copy()          # between poses (a slower tracker, a lost packet): hold

    def show(self, lead: np.ndarray, source: str) -> np.ndarray:
        """The lead to report this frame: `lead` (J, 3), from `source` ("tracked", "generated"), with
        what is left of an easing added. A jump, or a change of source, starts a new one: the report
        moves from where it was to the new lead linearly over `ease` seconds, never in one frame."""
        lead = lead.astype(np.float64)
        if self.shown is not None and (self.jumped or source != self.source):
            self.offset, self.eased = self.shown - lead, 0.0
            self.applied = self.offset
        self.jumped, self.source = False, source
        left = max(0.0, 1.0 - self.eased / max(self.config.ease, 1e-9))
        self.eased += self.dt
        applied = left * self.offset
        self.slide = (applied - self.applied)[0, [0, 2]]
        self.applied = applied
        self.shown = lead + applied
        return self.shown.astype(np.float32)

    def _fill(self, pose: np.ndarray) -> np.ndarray:
        """Missing joints where they last were relative to the root (or where the rest pose has them)."""
        out = pose.astype(np.float64).copy()
        missing = ~np.isfinite(out).all(axis=1)
        if not missing.any():
            return out
        before = self.last if self.last is not None else self.rest
        if missing[0]:                             # no pelvis: between the hips, or where it was
            hips = [skeleton.INDEX["l_hip"], skeleton.INDEX["r_hip"]]
            out[0] = out[hips].mean(0) if not missing[hips].any() else before[0]
            missing[0] = False
        out[missing] = before[missing] - before[0] + out[0]
        return out
