"""BVH files: parse the text, then forward kinematics vectorised over frames.

Any hierarchy and channel order is accepted. Rotations are applied in the order the CHANNELS
line lists them (intrinsic), and a joint that has position channels uses them as its local
translation instead of its OFFSET (Bandai puts the global translation on Hips that way).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_AXES = {"X": 0, "Y": 1, "Z": 2}


class BvhError(ValueError):
    """A BVH file that cannot be read; the message names the file and line."""


@dataclass
class Bvh:
    names: list[str]                 # joints, then end sites named "<parent>_end"
    parents: list[int]               # -1 for the root
    offsets: np.ndarray              # (J, 3) in file units
    channels: list[list[str]]        # per joint, e.g. ["Xposition", ..., "Zrotation"]; [] for end sites
    motion: np.ndarray               # (T, C) float64, all channels of a frame in file order
    frame_time: float
    path: str = ""
    is_end: list[bool] = field(default_factory=list)

    @property
    def fps(self) -> float:
        # Frame Time is written rounded (0.008333 for 120 fps): snap to the whole rate it means
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else fps

    @property
    def joint_names(self) -> list[str]:
        return [n for n, e in zip(self.names, self.is_end) if not e]

    def unit_scale(self) -> float:
        """Metres per file unit, guessed from the rest-pose height (BVH carries no unit).

        A human skeleton whose rest pose spans more than 20 units is in centimetres (Bandai:
        ~170), more than 500 in millimetres; otherwise metres (CMU salsa: ~1.2).
        """
        rest = np.zeros((len(self.names), 3))
        for j, p in enumerate(self.parents):
            rest[j] = self.offsets[j] + (rest[p] if p >= 0 else 0.0)
        extent = float(np.ptp(rest, axis=0).max())
        if extent > 500:
            return 0.001
        if extent > 20:
            return 0.01
        return 1.0

    def positions(self, *, include_ends: bool = False, scale: float | None = None) -> np.ndarray:
        """World joint positions (T, J, 3) float64 in metres (`scale` metres per unit)."""
        scale = self.unit_scale() if scale is None else scale
        T = self.motion.shape[0]
        J = len(self.names)
        rot = np.empty((J, T, 3, 3))
        pos = np.empty((J, T, 3))
        col = 0
        for j in range(J):
            chans = self.channels[j]
            local_t = np.broadcast_to(self.offsets[j], (T, 3)).copy()
            local_r = None
            for c in chans:
                values = self.motion[:, col]
                col += 1
                axis = _AXES[c[0].upper()]
                if c.endswith("position"):
                    local_t[:, axis] = values
                else:
                    r = _axis_rotation(axis, np.radians(values))
                    local_r = r if local_r is None else local_r @ r
            p = self.parents[j]
            if p < 0:
                pos[j] = local_t
                rot[j] = local_r if local_r is not None else np.eye(3)
            else:
                pos[j] = pos[p] + np.einsum("tij,tj->ti", rot[p], local_t)
                rot[j] = rot[p] @ local_r if local_r is not None else rot[p]
        out = pos.transpose(1, 0, 2) * scale
        if not include_ends:
            out = out[:, [j for j in range(J) if not self.is_end[j]]]
        return out

    def free_joints(self) -> set[str]:
        """Joints whose position channels move (a root's translation): no fixed bone above them."""
        free, col = set(), 0
        for name, chans in zip(self.names, self.channels):
            for c in chans:
                if c.endswith("position") and np.ptp(self.motion[:, col]) > 1e-6:
                    free.add(name)
                col += 1
        return free

    def joint_parents(self) -> list[int]:
        """Parents re-indexed over joints only (end sites dropped)."""
        keep = [j for j in range(len(self.names)) if not self.is_end[j]]
        index = {j: i for i, j in enumerate(keep)}
        return [index[self.parents[j]] if self.parents[j] >= 0 else -1 for j in keep]


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) about one coordinate axis."""
    c, s = np.cos(angle), np.sin(angle)
    r = np.zeros(angle.shape + (3, 3))
    a, b = [(1, 2), (2, 0), (0, 1)][axis]
    r[..., axis, axis] = 1.0
    r[..., a, a] = c
    r[..., a, b] = -s
    r[..., b, a] = s
    r[..., b, b] = c
    return r


class _Tokens:
    """Whitespace tokens with their line numbers, for errors that point at the line."""

    def __init__(self, text: str, path: str):
        self.path = path
        self.items: list[tuple[str, int]] = []
        self.lines = text.splitlines()
        for n, line in enumerate(self.lines, 1):
            self.items.extend((tok, n) for tok in line.split())
        self.i = 0

    def error(self, message: str, line: int | None = None) -> BvhError:
        if line is None:
            line = self.items[min(self.i, len(self.items) - 1)][1] if self.items else 1
        return BvhError(f"{self.path}:{line}: {message}")

    def next(self, what: str) -> str:
        if self.i >= len(self.items):
            last = self.items[-1][1] if self.items else 1
            raise self.error(f"file ends where {what} was expected", last)
        tok = self.items[self.i][0]
        self.i += 1
        return tok

    def expect(self, word: str) -> None:
        tok = self.next(repr(word))
        if tok.upper() != word.upper():
            self.i -= 1
            raise self.error(f"expected {word!r}, found {tok!r}")

    def number(self, what: str) -> float:
        tok = self.next(what)
        try:
            value = float(tok)
        except ValueError:
            self.i -= 1
            raise self.error(f"expected a number for {what}, found {tok!r}") from None
        if not math.isfinite(value):
            self.i -= 1
            raise self.error(f"{what} is {tok}, not a finite number")
        return value


def parse_bvh(text: str, path: str = "<string>") -> Bvh:
    tokens = _Tokens(text, path)
    if not tokens.items:
        raise BvhError(f"{path}:1: empty file, not BVH")
    if tokens.items[0][0].upper() != "HIERARCHY":
        raise tokens.error(f"not a BVH file (starts with {tokens.items[0][0][:20]!r}, expected HIERARCHY)", 1)
    tokens.next("HIERARCHY")
    bvh = Bvh(names=[], parents=[], offsets=np.zeros((0, 3)), channels=[], motion=np.zeros((0, 0)),
              frame_time=1.0, path=path)
    offsets: list[list[float]] = []

    def joint(parent: int, name: str, is_end: bool) -> None:
        index = len(bvh.names)
        bvh.names.append(name)
        bvh.parents.append(parent)
        bvh.is_end.append(is_end)
        tokens.expect("{")
        tokens.expect("OFFSET")
        offsets.append([tokens.number(f"{name} OFFSET") for _ in range(3)])
        chans: list[str] = []
        if not is_end:
            tokens.expect("CHANNELS")
            count_tok = tokens.next("channel count")
            if count_tok not in ("3", "6"):
                tokens.i -= 1
                raise tokens.error(f"joint {name!r} has CHANNELS {count_tok}; 3 or 6 expected")
            for _ in range(int(count_tok)):
                c = tokens.next("channel name")
                if c.lower() not in {f"{a}{k}" for a in "xyz" for k in ("position", "rotation")}:
                    tokens.i -= 1
                    raise tokens.error(f"unknown channel {c!r} in joint {name!r}")
                chans.append(c[0].upper() + c[1:].lower())
        bvh.channels.append(chans)
        while True:
            tok = tokens.next(f"'}}' closing {name!r}")
            up = tok.upper()
            if tok == "}":
                return
            if is_end:
                tokens.i -= 1
                raise tokens.error(f"unexpected {tok!r} inside End Site of {name!r}")
            if up == "JOINT":
                joint(index, tokens.next("joint name"), False)
            elif up == "END":
                tokens.expect("Site")
                joint(index, f"{name}_end", True)
            else:
                tokens.i -= 1
                raise tokens.error(f"unexpected {tok!r} in joint {name!r}")

    tokens.expect("ROOT")
    joint(-1, tokens.next("root name"), False)
    tokens.expect("MOTION")
    tokens.expect("Frames:")
    frames_tok = tokens.next("frame count")
    if not frames_tok.isdigit():
        tokens.i -= 1
        raise tokens.error(f"Frames: {frames_tok!r} is not a frame count")
    n_frames = int(frames_tok)
    tokens.expect("Frame")
    tokens.expect("Time:")
    bvh.frame_time = tokens.number("Frame Time")
    if bvh.frame_time <= 0:
        raise tokens.error(f"Frame Time {bvh.frame_time} must be positive")
    bvh.offsets = np.asarray(offsets, dtype=np.float64).reshape(-1, 3)

    n_channels = sum(len(c) for c in bvh.channels)
    header_line = tokens.items[tokens.i - 1][1]
    rows = [(n, line) for n, line in enumerate(tokens.lines[header_line:], header_line + 1) if line.strip()]
    if len(rows) < n_frames:
        last = rows[-1][0] if rows else header_line
        raise BvhError(f"{path}:{last}: truncated: header says {n_frames} frames, file has {len(rows)}")
    motion = np.empty((n_frames, n_channels))
    for f, (n, line) in enumerate(rows[:n_frames]):
        parts = line.split()
        if len(parts) != n_channels:
            raise BvhError(f"{path}:{n}: frame {f} has {len(parts)} values, the hierarchy has {n_channels} channels")
        try:
            motion[f] = np.array(parts, dtype=np.float64)
        except ValueError:
            bad = next(p for p in parts if not _is_float(p))
            raise BvhError(f"{path}:{n}: frame {f} has a non-numeric value {bad!r}") from None
        if not np.isfinite(motion[f]).all():
            raise BvhError(f"{path}:{n}: frame {f} has a NaN or infinite value")
    if len(rows) > n_frames:
        raise BvhError(f"{path}:{rows[n_frames][0]}: {len(rows) - n_frames} lines after the {n_frames} frames the header declares")
    bvh.motion = motion
    return bvh


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_bvh(path: str | Path, data: bytes | None = None) -> Bvh:
    """A BVH file; or, given `data`, those bytes read from elsewhere (a zip's member) that `path`
    names in messages."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="strict") if data is None else data.decode("utf-8")
    except UnicodeDecodeError:
        raise BvhError(f"{path}:1: not a BVH file (binary content)") from None
    except OSError as e:
        raise BvhError(f"{path}: cannot read: {e.strerror}") from None
    return parse_bvh(text, str(path))
