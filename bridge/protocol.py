"""The OSC address space: incoming messages → validated commands for the engine.

Pure functions, no sockets and no engine state: `interpret` either returns commands or raises
`ProtocolError` with a message that is sent back to the sender as `/bridge/error`. Every numeric
argument may arrive as int or float (Max and oscsend send ints for whole numbers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from models import skeleton
from models.emotions import resolve, resolve_action
from models.sampling import SAMPLERS

from .osc import clip
from .params import PARAMS

MODES = ("solo", "partner", "duet")
SPACES = ("metres", "normalised")

# where the Bandai styles sit on the valence/arousal plane (Russell's circumplex, roughly)
VALENCE_AROUSAL = {
    "normal": (0.0, 0.0), "happy": (0.8, 0.5), "sad": (-0.7, -0.5), "angry": (-0.6, 0.8),
    "proud": (0.6, 0.3), "not-confident": (-0.4, -0.3), "tired": (-0.2, -0.8),
}


LARGEST = 1e6       # no number this daemon takes means anything beyond this; past it, sums overflow
MAX_PERFORMER_DIGITS = 4
MAX_TRACKED = 16    # poses in one PoseOSC message
MIN_CONFIDENCE = 0.3  # a tracked point scored below this (PoseOSC score, MediaPipe visibility) is missing


class ProtocolError(ValueError):
    """Bad input from an OSC sender: the message says what was wrong and what is valid."""


# Commands: small typed values, decided here on the receive thread; the engine only applies them.

@dataclass(frozen=True)
class Command:
    performer: int | None = field(default=None, kw_only=True)   # 0-based; None = every performer
    sender: tuple | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class SetEmotion(Command):
    weights: np.ndarray                     # over the model's labels, summing to 1


@dataclass(frozen=True)
class SetLabel(Command):
    label: int | str                        # an index, or a name (a MIDI map's) the engine resolves
    weight: float                           # the others stay; then all are normalised


@dataclass(frozen=True)
class SetPreset(Command):
    which: str                              # a | b
    weights: np.ndarray


@dataclass(frozen=True)
class SetParam(Command):
    name: str                               # a live parameter (bridge.params) or "sampler"
    value: float | str


@dataclass(frozen=True)
class SetMode(Command):
    mode: str


@dataclass(frozen=True)
class SetAction(Command):
    action: str | None                      # one of the model's actions; None: none asked


@dataclass(frozen=True)
class Reset(Command):
    pass


@dataclass(frozen=True)
class Reseed(Command):
    seed: int


@dataclass(frozen=True)
class SetPoseLayout(Command):
    layout: str
    space: str = ""                         # "" leaves the space as it is


@dataclass(frozen=True)
class TrackedPoses(Command):
    poses: tuple                            # ((layout, points (K, 3), space or ""), ...): the first is read


def _numbers(address: str, args: tuple, count: int | None = None, minimum: int = 0) -> np.ndarray:
    if count is not None and len(args) != count:
        raise ProtocolError(f"{address} takes {count} number(s), got {len(args)}")
    if len(args) < minimum:
        raise ProtocolError(f"{address} takes at least {minimum} numbers, got {len(args)}")
    for a in args:
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            raise ProtocolError(f"{address}: expected numbers (i or f), got {type(a).__name__} {clip(repr(a))}")
    values = np.asarray(args, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ProtocolError(f"{address}: NaN or infinite value")
    if (np.abs(values) > LARGEST).any():
        raise ProtocolError(f"{address}: values must lie within ±{LARGEST:g}")
    return values


def whole_numbers(address: str, args: tuple, count: int) -> list[int]:
    """`count` numbers that must be whole (ports, MIDI bytes), as ints."""
    values = _numbers(address, args, count)
    if (values != np.round(values)).any():
        raise ProtocolError(f"{address} takes whole numbers")
    return [int(v) for v in values]


def _string(address: str, args: tuple) -> str:
    if len(args) != 1 or not isinstance(args[0], str):
        raise ProtocolError(f"{address} takes one string")
    return args[0]


def _in_range(address: str, value: float, lo: float, hi: float) -> float:
    if not lo <= value <= hi:
        raise ProtocolError(f"{address} must be between {lo:g} and {hi:g}, got {value:g}")
    return float(value)


def _weights(address: str, values: np.ndarray, labels: list[str]) -> np.ndarray:
    if len(values) != len(labels):
        raise ProtocolError(f"{address} takes {len(labels)} weights in the order {', '.join(labels)}; got {len(values)}")
    if (values < 0).any() or values.sum() <= 0:
        raise ProtocolError(f"{address}: weights must be ≥ 0 with a positive sum")
    return values / values.sum()


def _named_weights(address: str, args: tuple, labels: list[str]) -> np.ndarray:
    if len(args) % 2:
        raise ProtocolError(f"{address} takes name/weight pairs: s f [s f …]")
    weights = np.zeros(len(labels))
    for name, value in zip(args[::2], args[1::2]):
        if not isinstance(name, str):
            raise ProtocolError(f"{address}: expected a label name, got {name!r}")
        try:
            weights[resolve(name, labels)] += _numbers(address, (value,))[0]
        except ValueError as e:
            raise ProtocolError(str(e)) from None
    return _weights(address, weights, labels)


def emotion_weights(address: str, args: tuple, labels: list[str]) -> np.ndarray:
    """/emotion f… (label order) or /emotion s f [s f …] (by name)."""
    if args and isinstance(args[0], str):
        return _named_weights(address, args, labels)
    return _weights(address, _numbers(address, args), labels)


def valence_arousal(valence: float, arousal: float, labels: list[str], sharpness: float = 6.0) -> np.ndarray:
    """A point on the valence/arousal plane → weights over the labels that have a place on it."""
    known = [i for i, name in enumerate(labels) if name in VALENCE_AROUSAL]
    if not known:
        raise ProtocolError(f"/emotion/va: none of this model's labels ({', '.join(labels)}) has a valence/arousal position")
    logits = np.full(len(labels), -np.inf)
    for i in known:
        v, a = VALENCE_AROUSAL[labels[i]]
        logits[i] = -sharpness * ((valence - v) ** 2 + (arousal - a) ** 2)
    w = np.exp(logits - logits.max())
    return w / w.sum()


def interpret(address: str, args: tuple, labels: list[str], sender: tuple | None = None,
              pose_layout: str = "canonical", performers: int | None = None,
              modes: tuple[str, ...] = ("solo",), unsupported: dict[str, str] | None = None,
              actions: list[str] = ()) -> list[Command]:
    """One OSC message → commands, every value checked and in range, so that applying them cannot
    fail. Raises ProtocolError on anything it cannot use. `performers` (None: any number),
    `modes`, `unsupported` (parameter → why the model has no use for it) and `actions` are what
    the running show has."""
    performer = None
    if address.startswith("/performer/"):
        m = re.match(r"^/performer/(\d{1,%d})(/.*)$" % MAX_PERFORMER_DIGITS, address)
        if not m:
            raise ProtocolError(f"{clip(address, 40)}: expected /performer/<number>/<address>")
        performer = int(m.group(1)) - 1
        if performer < 0 or performers is not None and performer >= performers:
            upto = f" to {performers}" if performers else ""
            raise ProtocolError(f"/performer/{m.group(1)}: performers are numbered from 1{upto}")
        address = m.group(2)

    def cmd(kind: type, *values) -> list[Command]:
        return [kind(*values, performer=performer, sender=sender)]

    if address == "/emotion":
        return cmd(SetEmotion, emotion_weights(address, args, labels))
    if address == "/emotion/va":
        v, a = (_in_range(address, x, -1.0, 1.0) for x in _numbers(address, args, 2))
        return cmd(SetEmotion, valence_arousal(v, a, labels))
    if address in ("/emotion/a", "/emotion/b"):
        return cmd(SetPreset, address[-1], emotion_weights(address, args, labels))
    if address.startswith("/emotion/"):
        name = address.split("/", 2)[2]
        try:
            index = resolve(name, labels)
        except ValueError as e:
            raise ProtocolError(str(e)) from None
        value = _in_range(address, _numbers(address, args, 1)[0], 0.0, LARGEST)
        return cmd(SetLabel, index, value)
    if address[1:] in PARAMS:
        param = PARAMS[address[1:]]
        if param.scope == "show" and performer is not None:
            raise ProtocolError(f"{param.name} is the whole show's, not one performer's: send /{param.name}")
        if unsupported and param.name in unsupported:
            raise ProtocolError(f"/{param.name}: {unsupported[param.name]}")
        return cmd(SetParam, param.name, _in_range(address, _numbers(address, args, 1)[0], *param.range))
    if address == "/sampler":
        name = _string(address, args)
        if name not in SAMPLERS:
            raise ProtocolError(f"/sampler: unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
        return cmd(SetParam, "sampler", name)
    if address == "/mode":
        mode = _string(address, args)
        if mode not in MODES:
            raise ProtocolError(f"/mode: unknown mode {clip(mode, 40)!r}; choose one of {', '.join(MODES)}")
        if mode not in modes:
            hint = "; serve --partner for partner and duet" if "partner" not in modes else ""
            raise ProtocolError(f"mode {mode} is not one this show plays: it plays {', '.join(modes)}{hint}")
        return cmd(SetMode, mode)
    if address == "/action":
        try:
            return cmd(SetAction, resolve_action(_string(address, args), actions))
        except ValueError as e:
            raise ProtocolError(f"/action: {e}") from None
    if address == "/reset":
        return cmd(Reset)
    if address == "/seed":
        value = _numbers(address, args, 1)[0]
        if value != int(value) or not 0 <= value < 2 ** 31:
            raise ProtocolError("/seed takes a whole number from 0 to 2147483647")
        return cmd(Reseed, int(value))
    if address == "/pose/layout":
        if not 1 <= len(args) <= 2 or not all(isinstance(a, str) for a in args):
            raise ProtocolError("/pose/layout takes a layout name and, optionally, a space (metres or normalised)")
        layout, space = args[0], args[1] if len(args) == 2 else ""
        if layout not in skeleton.LAYOUTS:
            raise ProtocolError(f"/pose/layout: unknown layout {clip(layout, 40)!r}; choose one of {', '.join(skeleton.LAYOUTS)}")
        if space and space not in SPACES:
            raise ProtocolError(f"/pose/layout: unknown space {clip(space, 40)!r}; choose metres or normalised")
        return cmd(SetPoseLayout, layout, space)
    if address == "/pose":
        return cmd(TrackedPoses, (pose_points(address, _numbers(address, args, minimum=2), pose_layout),))
    if address == "/wek/inputs":
        return cmd(SetEmotion, wekinator(address, _numbers(address, args, minimum=1), labels))
    if address == "/poses/arr":
        return cmd(TrackedPoses, tuple(poseosc_array(address, _numbers(address, args, minimum=3))))
    if address == "/mediapipe/pose":
        values = _numbers(address, args, minimum=1)
        if len(values) % 4 == 1:        # a variant prefixes 1 (detected) or 0 (nothing seen)
            if values[0] == 0:
                return []
            values = values[1:]
        if len(values) != 33 * 4:
            raise ProtocolError(f"/mediapipe/pose takes 33 × (x, y, z, visibility) = 132 numbers, got {len(values)}")
        points = values.reshape(33, 4)
        return cmd(TrackedPoses, (("mediapipe33", missing(points[:, :3], points[:, 3] < MIN_CONFIDENCE), "normalised"),))
    raise ProtocolError(f"unknown address {clip(address)}")


def wekinator(address: str, values: np.ndarray, labels: list[str]) -> np.ndarray:
    """Wekinator's outputs: one weight per label (negatives read as 0), or valence and arousal."""
    if len(values) == len(labels):
        return _weights(address, np.clip(values, 0.0, None), labels)
    if len(values) == 2:
        v, a = (_in_range(address, x, -1.0, 1.0) for x in values)
        return valence_arousal(v, a, labels)
    raise ProtocolError(f"{address}: expected {len(labels)} emotion weights or 2 values (valence, arousal); "
                        f"got {len(values)}")


def pose_points(address: str, values: np.ndarray, layout: str) -> tuple[str, np.ndarray, str]:
    """Flat x y [z] per point in `layout`; 2-D or 3-D is told by the count."""
    n = len(skeleton.layout_names(layout))
    if len(values) == 3 * n:
        points = values.reshape(n, 3)
    elif len(values) == 2 * n:
        points = np.concatenate([values.reshape(n, 2), np.zeros((n, 1))], axis=1)
    else:
        raise ProtocolError(f"{address}: layout {layout} has {n} points: send {2 * n} (2-D) or {3 * n} (3-D) "
                            f"numbers, got {len(values)}")
    return layout, missing(points, (points == 0).all(axis=1)), ""


def missing(points: np.ndarray, unseen: np.ndarray) -> np.ndarray:
    """Points (K, 3) with the rows a tracker did not see set to NaN: the partner fills them in
    (models.duet.lead). Trackers mark such a point with a low score, or put it at exactly 0, 0."""
    points = points.astype(np.float64)
    points[unseen] = np.nan
    return points


def poseosc_array(address: str, values: np.ndarray) -> list[tuple[str, np.ndarray, str]]:
    """PoseOSC ARR: w h nPoses, then per pose score + 17 × (x, y, score), in pixels."""
    w, h, count = values[:3]
    if w <= 0 or h <= 0 or count != int(count) or not 0 <= count <= MAX_TRACKED:
        raise ProtocolError(f"{address}: expected width, height (pixels), pose count (0-{MAX_TRACKED}) first")
    count = int(count)
    if len(values) != 3 + 52 * count:
        raise ProtocolError(f"{address}: {count} pose(s) need {3 + 52 * count} numbers, got {len(values)}")
    poses = []
    for k in range(count):
        kp = values[3 + 52 * k + 1: 3 + 52 * (k + 1)].reshape(17, 3)
        points = np.stack([kp[:, 0] / w, kp[:, 1] / h, np.zeros(17)], axis=1)
        poses.append(("coco17", missing(points, kp[:, 2] < MIN_CONFIDENCE), "normalised"))
    return poses


def tracked_pose(layout: str, points: np.ndarray, space: str) -> np.ndarray:
    """A tracker pose in its layout and space → canonical joints (21, 3), metres, Y up."""
    return skeleton.from_layout(to_metres(points, space)[None], layout)[0]


def to_metres(points: np.ndarray, space: str, height: float = 1.7) -> np.ndarray:
    """Tracker points → metres, Y up. Normalised image space (x, y in [0, 1], y down) is scaled so
    the frame's height is `height` metres, centred on x, with its bottom edge on the floor."""
    if space == "metres":
        return points
    out = np.empty_like(points)
    out[:, 0] = (points[:, 0] - 0.5) * height
    out[:, 1] = (1.0 - points[:, 1]) * height
    out[:, 2] = -points[:, 2] * height
    return out
