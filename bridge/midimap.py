"""MIDI controls → live parameters: mappings, curves, pick-up takeover, 14-bit pairs, learn.

Pure logic on plain (port, type, channel, control, value) events; no MIDI library is imported
here, so it runs and is tested on machines without any MIDI backend.

A mapping file (TOML):

    [[control]]
    port = "nanoKONTROL"      # substring of the port name; "" matches every port
    channel = 1               # 1-16; 0 = any
    cc = 16                   # or: note = 36
    param = "variance"        # a live parameter (bridge.params); emotion/<label> for one label's weight;
                              # a button: reset, sampler/<name>, preset/a|b, action/<name> (or action/none)
    min = 0.5
    max = 20.0
    curve = "exponential"     # linear | exponential
    takeover = "pickup"       # pickup | jump
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .params import PARAMS
from .protocol import Command, Reset, SetAction, SetLabel, SetParam

# what a knob may sweep, and how, unless a mapping says otherwise (declared in bridge.params)
CONTINUOUS = {p.name: (*p.knob, p.curve) for p in PARAMS.values() if p.knob}
TRIGGERS = ("reset", "sampler/mean", "sampler/random", "sampler/dynamic", "sampler/emotion", "preset/a", "preset/b")
PICKUP_TOLERANCE = 0.02    # of the knob's travel


@dataclass
class Mapping:
    param: str
    cc: int | None = None
    note: int | None = None
    channel: int = 0                  # 1-16, 0 = any
    port: str = ""
    min: float | None = None
    max: float | None = None
    curve: str | None = None
    takeover: str = "pickup"

    def __post_init__(self):
        if (self.cc is None) == (self.note is None):
            raise ValueError(f"mapping for {self.param}: give exactly one of cc or note")
        continuous = self.param in CONTINUOUS or self.param.startswith("emotion/")
        if not continuous and not self.is_trigger(self.param):
            raise ValueError(f"unknown parameter {self.param!r}; continuous: {', '.join(CONTINUOUS)}, "
                             f"emotion/<label>; triggers: {', '.join(TRIGGERS)}, action/<name>")
        lo, hi, curve = CONTINUOUS.get(self.param, (0.0, 1.0, "linear"))
        self.min = lo if self.min is None else self.min
        self.max = hi if self.max is None else self.max
        self.curve = curve if self.curve is None else self.curve
        if self.curve not in ("linear", "exponential"):
            raise ValueError(f"mapping for {self.param}: curve must be linear or exponential")
        if self.curve == "exponential" and (self.min <= 0 or self.max <= 0):
            raise ValueError(f"mapping for {self.param}: an exponential curve needs a positive range")
        if self.takeover not in ("pickup", "jump"):
            raise ValueError(f"mapping for {self.param}: takeover must be pickup or jump")

    @property
    def continuous(self) -> bool:
        return not self.is_trigger(self.param)

    @staticmethod
    def is_trigger(param: str) -> bool:
        return param in TRIGGERS or param.startswith("action/") and len(param) > len("action/")

    def matches(self, port: str, kind: str, channel: int, number: int) -> bool:
        own = self.cc if kind == "cc" else self.note if kind == "note" else None
        return own == number and (self.channel in (0, channel)) and self.port.lower() in port.lower()

    def scale(self, x: float) -> float:
        """Knob position 0..1 → parameter value on this mapping's curve."""
        if self.curve == "exponential":
            return self.min * (self.max / self.min) ** x
        return self.min + (self.max - self.min) * x

    def position(self, value: float) -> float:
        """Parameter value → where the knob would be (the inverse of scale), clipped to 0..1."""
        if self.curve == "exponential":
            x = math.log(max(value, 1e-12) / self.min) / math.log(self.max / self.min)
        else:
            x = (value - self.min) / ((self.max - self.min) or 1.0)
        return float(np.clip(x, 0.0, 1.0))


@dataclass
class ControlState:
    position: float | None = None     # last knob position seen
    picked_up: bool = False
    last_set: float | None = None     # the value this control last set


@dataclass
class MidiMap:
    mappings: list[Mapping] = field(default_factory=list)
    state: dict[int, ControlState] = field(default_factory=dict)
    msb: dict[tuple, int] = field(default_factory=dict)     # (port, channel, cc 0-31) → latest MSB
    learning: str | None = None
    learned: Mapping | None = None

    # ---- files --------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> "MidiMap":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ValueError(f"{path}: {e}") from None
        try:
            return cls([Mapping(**c) for c in data.get("control", [])])
        except TypeError as e:
            raise ValueError(f"{path}: {e}") from None

    def dumps(self) -> str:
        """The mapping file, TOML (written by hand: the values are plain numbers and strings)."""
        out = ["# motionbridge MIDI map: see `motionbridge midi list` and the README's MIDI section\n"]
        for m in self.mappings:
            out.append("[[control]]")
            for key, value in asdict(m).items():
                if value is None or (key == "channel" and value == 0) or (key == "port" and value == ""):
                    continue
                out.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
            out.append("")
        return "\n".join(out)

    def save(self, path: str | Path) -> None:
        from models.files import atomic_write
        atomic_write(path, lambda fh: fh.write(self.dumps().encode()))

    # ---- events -------------------------------------------------------------------------

    def learn(self, param: str) -> None:
        Mapping(param=param, cc=0)            # validates the name
        self.learning, self.learned = param, None

    def handle(self, port: str, kind: str, channel: int, number: int, value: int,
               current: dict[str, float]) -> list[Command]:
        """One MIDI event (kind cc or note, channel 1-16, 7-bit value) → engine commands.

        `current` holds the parameters' present values (for pick-up); emotion/<label> as weights.
        """
        fine = None
        if kind == "cc" and 32 <= number < 64 and not any(m.matches(port, "cc", channel, number) for m in self.mappings):
            # an unmapped CC 32-63 is the LSB of a 14-bit pair with CC 0-31, sent after its MSB
            key = (port, channel, number - 32)
            if key not in self.msb:
                return []
            number, fine = number - 32, (self.msb[key] * 128 + value) / 16383.0
        elif kind == "cc" and number < 32:
            self.msb[(port, channel, number)] = value
        if self.learning and (kind == "cc" or value > 0):
            mapping = Mapping(self.learning, cc=number if kind == "cc" else None,
                              note=number if kind == "note" else None, channel=channel, port=port)
            self.mappings = [m for m in self.mappings if not (m.param == mapping.param or
                             m.matches(port, kind, channel, number))] + [mapping]
            self.learning, self.learned = None, mapping
            self.state.clear()
            return []
        commands = []
        for i, m in enumerate(self.mappings):
            if not m.matches(port, kind, channel, number):
                continue
            if not m.continuous:
                if fine is not None or kind == "cc" and value < 64 or kind == "note" and value == 0:
                    continue
                commands.append(trigger(m.param))
                continue
            commands += self._move(i, m, value / 127.0 if fine is None else fine, current)
        return commands

    def _move(self, i: int, m: Mapping, x: float, current: dict[str, float]) -> list[Command]:
        s = self.state.setdefault(i, ControlState())
        now = current.get(m.param)
        if s.last_set is not None and now is not None and abs(now - s.last_set) > 1e-6 * max(1.0, abs(now)):
            s.picked_up = False                       # something else moved the value: pick up again
        if m.takeover == "jump" or now is None:
            s.picked_up = True
        if not s.picked_up:
            target = m.position(now)
            crossed = s.position is not None and (s.position - target) * (x - target) <= 0
            if abs(x - target) <= PICKUP_TOLERANCE or crossed:
                s.picked_up = True
        s.position = x
        if not s.picked_up:
            return []
        value = m.scale(x)
        s.last_set = value
        return [setting(m.param, value)]

    def waiting(self, i: int) -> bool:
        s = self.state.get(i)
        return s is not None and not s.picked_up


def setting(param: str, value: float) -> Command:
    if param.startswith("emotion/"):
        return SetLabel(param.split("/", 1)[1], max(0.0, value))
    lo, hi = PARAMS[param].range
    return SetParam(param, float(np.clip(value, lo, hi)))


def trigger(param: str) -> Command:
    if param == "reset":
        return Reset()
    if param.startswith("action/"):
        name = param.split("/", 1)[1]
        return SetAction(None if name == "none" else name)
    if param.startswith("sampler/"):
        return SetParam("sampler", param.split("/", 1)[1])
    return SetParam("mix", 0.0 if param == "preset/a" else 1.0)


SHIPPED_LABELS = ("normal", "happy", "sad", "angry", "proud", "not-confident", "tired")
PRESET_ACTIONS = ("none", "walk", "walk-back", "walk-left", "walk-right", "run", "bow")   # of Bandai's actions: the walks, run and bow


def preset(name: str, labels: list[str] | tuple[str, ...] = SHIPPED_LABELS) -> MidiMap:
    """Built-in maps: `nanokontrol2` (Korg factory CCs, channel 1: the first seven faders weigh the
    model's first seven labels; R buttons 2-8 ask for an action, or none) and `modwheel`."""
    if name == "modwheel":
        return MidiMap([Mapping("variance", cc=1)])
    if name == "nanokontrol2":
        faders = [Mapping(f"emotion/{label}", cc=i, channel=1) for i, label in enumerate(labels[:7])]
        faders.append(Mapping("mix", cc=7, channel=1))
        knobs = [Mapping(p, cc=16 + i, channel=1) for i, p in
                 enumerate(["variance", "temperature", "glide", "k", "emotion_weight", "energy", "intensity"])]
        buttons = [Mapping(p, cc=cc, channel=1) for p, cc in
                   [("sampler/mean", 32), ("sampler/random", 33), ("sampler/dynamic", 34), ("sampler/emotion", 35),
                    ("preset/a", 48), ("preset/b", 49), ("reset", 64)]]
        actions = [Mapping(f"action/{a}", cc=65 + i, channel=1) for i, a in enumerate(PRESET_ACTIONS)]
        return MidiMap(faders + knobs + buttons + actions)
    raise ValueError(f"unknown MIDI preset {name!r}: nanokontrol2 or modwheel")
