"""What the engine speaks to a model family live: one small interface, whatever the network.

A family's live runtime (solo: `models.solo.live.SoloLive`) holds the state a show needs between
frames and makes one frame per call for every performer at once. The engine never looks inside.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .sampling import SamplingParams


@dataclass(frozen=True)
class Tracked:
    """A human's pose as a tracker sent it, on the canonical skeleton."""
    points: np.ndarray          # (J, 3) metres, Y up; NaN rows where the tracker saw no joint
    image: bool                 # from image coordinates: its size and depth are not to be believed


@dataclass
class Condition:
    """Everything a frame is conditioned on, for every performer (P of them)."""
    emotion: np.ndarray                              # (P, L) weights, each row summing to 1
    params: list[SamplingParams]                     # one per performer
    poses: list[Tracked | None] = field(default_factory=list)   # per performer: a pose that came since the last frame
    mode: str = "solo"                               # solo | partner | duet (families say which they play)
    extra: dict = field(default_factory=dict)        # the show's own live values (bridge.params), by name
    actions: list[str | None] = field(default_factory=list)  # per performer: the action asked, None for none


class Live(Protocol):
    labels: list[str]          # the checkpoint's emotion labels, in order
    actions: list[str]         # what /action may ask of it (walk, bow…); none for a model not trained on actions
    performers: int
    fps: float
    modes: tuple[str, ...]     # what /mode may ask of it; it starts in the first
    roles: tuple[str, ...]     # the bodies each performer streams: ("dancer",), or ("lead", "partner")
    recognised: np.ndarray     # (P, L) the emotion its own head reads in what it made, up to the last frame
    unsupported: dict[str, str]  # live parameters (bridge.params) it has no use for → why, for the refusal

    def step(self, condition: Condition) -> np.ndarray:
        """The next frame: world positions (P × len(roles), J, 3) in metres, canonical skeleton;
        performer p's bodies in the rows p × len(roles) onwards, in the order of `roles`."""

    def settle(self) -> None:
        """The bookkeeping the last frame left for the next; called once the frame has gone out."""

    def rehearse(self) -> None:
        """Warm the machine's caches for the next step, changing nothing."""

    def reset(self) -> None:
        """Every performer back to the start, with an empty memory."""

    def seed(self, seed: int) -> None:
        """Reseed sampling."""

    def status(self) -> dict:
        """A few numbers worth showing (JSON-able), e.g. the pace asked and measured."""
