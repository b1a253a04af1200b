"""What the engine speaks to a model family live: one small interface, whatever the network.

A family's live runtime (solo: `models.solo.live.SoloLive`) holds the state a show needs between
frames and makes one frame per call for every performer at once. The engine never looks inside.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .sampling import SamplingParams


@dataclass
class Condition:
    """Everything a frame is conditioned on, for every performer (P of them)."""
    emotion: np.ndarray                              # (P, L) weights, each row summing to 1
    params: list[SamplingParams]                     # one per performer
    pose: np.ndarray | None = None                   # (J, 3) canonical metres: the tracked human, if any
    mode: str = "solo"                               # solo | partner | duet (families say which they play)
    extra: dict = field(default_factory=dict)        # a family's own live values, by name


class Live(Protocol):
    labels: list[str]          # the checkpoint's emotion labels, in order
    performers: int
    fps: float
    modes: tuple[str, ...]     # what /mode may ask of it
    recognised: np.ndarray     # (P, L) the emotion its own head reads in what it made, up to the last frame

    def step(self, condition: Condition) -> np.ndarray:
        """The next frame: world positions (P, J, 3) in metres, canonical skeleton."""

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
