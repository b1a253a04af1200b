"""A generated frame → OSC datagrams, in the output layout and coordinate space the user chose.

Per frame, as IMMEDIATE bundles of at most 1,472 bytes:
    /motion/frame i f             frame number, seconds since start
    /motion/<n>/pose f…           flat x y z of every point of the layout (n: the body, from 1)
    /motion/<n>/emotion f…        emotion recognised in the generated motion up to the frame before
    /motion/<n>/target f…         the emotion conditioning this frame (after glide), label order
    /motion/<n>/<point> f f f     one message per point, when per-joint output is on

A body is a solo dancer, or in a duet show each pair's lead and then its partner (bodies 1 and 2
are pair 1, 3 and 4 pair 2, …); a partner reports its pair's emotions. The schema names the roles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import skeleton
from models.motion import WALL

from . import osc
from .engine import Frame

VIEW_S = 3.0        # metres from the centre a dancer's root may roam when the stage has no limit (--stage 0)
REACH = 1.0         # metres a body reaches beyond its root (an arm, a leg, a lean)


@dataclass
class OutputFormat:
    layout: str = "canonical"
    space: str = "metres"        # metres (Y up) or normalised (the stage in [0, 1], y down)
    per_joint: bool = False
    stage: float = VIEW_S        # metres from the centre a dancer travels (serve --stage)

    def __post_init__(self):
        skeleton.layout_names(self.layout)   # raises on an unknown layout
        if self.space not in ("metres", "normalised"):
            raise ValueError(f"unknown output space {self.space!r}: metres or normalised")

    @property
    def names(self) -> list[str]:
        return skeleton.layout_names(self.layout)

    def schema(self, labels: list[str], performers: int, roles: tuple[str, ...] = ("dancer",)) -> bytes:
        """/motion/schema s layout, s space, s point names, s emotion labels, i bodies, s roles: the
        bodies streamed (performers × roles) and each performer's roles in order ("dancer", or
        "lead,partner")."""
        return osc.message("/motion/schema", self.layout, self.space, ",".join(self.names), ",".join(labels),
                           performers * len(roles), ",".join(roles))

    def points(self, positions: np.ndarray) -> np.ndarray:
        """Canonical world positions (P, 21, 3) → (P, K, 3) in this layout and space."""
        points = skeleton.to_layout(positions, self.layout)
        return points if self.space == "metres" else self.normalised(points)

    def normalised(self, points: np.ndarray) -> np.ndarray:
        """Metres, Y up → the stage seen from the front as an image: x and z (depth) across the
        stage's full extent onto [0, 1] (its radius, the soft wall beyond it, and a body's reach:
        see motion.Trajectory); y with the floor at 1 and the same span up at 0, one scale for all
        three, so a body keeps its proportions. A dancer on the stage stays in [0, 1]."""
        span = 2.0 * ((self.stage or VIEW_S) * (1.0 + WALL) + REACH)
        out = np.empty_like(points)
        out[..., 0] = points[..., 0] / span + 0.5
        out[..., 1] = 1.0 - points[..., 1] / span
        out[..., 2] = points[..., 2] / span + 0.5
        return out

    def encode(self, frame: Frame) -> list[bytes]:
        pts = self.points(frame.positions)
        roles = len(pts) // len(frame.emotion)
        messages = [osc.message("/motion/frame", frame.index, frame.time)]
        for b in range(len(pts)):
            messages.append(osc.message(f"/motion/{b + 1}/pose", pts[b]))
            messages.append(osc.message(f"/motion/{b + 1}/emotion", frame.recognised[b // roles]))
            messages.append(osc.message(f"/motion/{b + 1}/target", frame.emotion[b // roles]))
            if self.per_joint:
                messages.extend(osc.message(f"/motion/{b + 1}/{name}", pts[b, j]) for j, name in enumerate(self.names))
        return osc.bundles(messages)
