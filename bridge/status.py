"""What the daemon reports: counters the threads write (`Stats`), and the typed snapshot built
from them off the frame thread (`Snapshot`), swapped in whole. The dashboard, `/bridge/status` and
`monitor` all read a Snapshot; a monitor rebuilds one from the JSON it receives, so a field renamed
on one side fails there (and in the tests) instead of rendering as 0.
"""
from __future__ import annotations

import collections
import json
import logging
import time
from dataclasses import asdict, dataclass, field

from . import osc

log = logging.getLogger(__name__)

TEXT_LIMIT = 160                  # characters of an error text kept for the status
STATUS_LIMIT = 1472               # bytes of a /bridge/status datagram: one Ethernet frame, never fragmented


@dataclass
class Stats:
    """Counters written by the threads (each field by one of them, or atomically) and read for snapshots."""
    frames: int = 0
    missed: int = 0
    failed: int = 0
    intervals: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    steps: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    rehearsals: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    packets_in: int = 0
    messages_in: int = 0
    messages_out: int = 0
    datagrams_out: int = 0
    send_failures: int = 0
    replies_withheld: int = 0       # replies that would have been larger than their request
    kernel_drops: int = 0           # datagrams the kernel dropped: no room in the socket's buffer, or
                                    # from a barred sender (see transport.socket_drops, sockfilter)
    errors: collections.Counter = field(default_factory=collections.Counter)
    recent_errors: collections.deque = field(default_factory=lambda: collections.deque(maxlen=6))

    def error(self, kind: str, text: str) -> None:
        """Count an error and keep its text (cut short) for the status; formats nothing."""
        self.errors[kind] += 1
        self.recent_errors.append((time.time(), text[:TEXT_LIMIT]))

    def internal(self, where: str, error: BaseException) -> None:
        """Something we did not expect: counted, shown, logged through the queue; the loop goes on."""
        self.error("internal", f"{where}: {type(error).__name__}: {error}")
        log.error("%s: unexpected %s", where, type(error).__name__, exc_info=error)


@dataclass
class Performer:
    target: list[float]             # emotion weights asked for
    current: list[float]            # ... after the glide, this frame
    recognised: list[float]         # what the model's own emotion head reads in its motion
    pace: float                     # m/s the body moves at
    pace_target: float              # m/s the emotion and energy ask for
    lead: str = ""                  # a duet show: who leads this pair (the tracked dancer, or the soloist)
    partner_limbs: float = 0.0      # ... how fast its partner's limbs move (m/s, root-relative)
    partner_gain: float = 0.0       # ... and the energy governor's gain on them (1: as the network makes them)
    action: str = ""                # what the body is asked to do (/action); "" for none


@dataclass
class Control:
    param: str
    source: str                     # "CC 16 ch 1", "note 41"
    value: float | None
    waiting: bool                   # pick-up: the control has not met the value yet


@dataclass
class Midi:
    status: str = "unavailable"
    learning: str | None = None
    learned: str = ""
    controls: list[Control] = field(default_factory=list)


@dataclass
class Snapshot:
    version: str = ""
    uptime_s: float = 0.0
    listen: str = ""
    send_to: str = ""
    model: str = ""
    device: str = ""
    mode: str = ""
    fps_target: float = 0.0
    fps: float = 0.0
    frames: int = 0
    missed: int = 0
    failed: int = 0
    step_p50_ms: float = 0.0
    step_p99_ms: float = 0.0
    lead_ms: float = 0.0
    rehearsal_ms: float = 0.0
    jitter_p99_ms: float = 0.0
    osc_in_per_s: float = 0.0
    osc_out_per_s: float = 0.0
    packets_in: int = 0
    kernel_drops: int = 0
    barred: int = 0                 # senders barred now (see intake)
    replies_withheld: int = 0
    log_dropped: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    recent_errors: list[str] = field(default_factory=list)
    threads: dict[str, str] = field(default_factory=dict)
    subscribers: list[str] = field(default_factory=list)
    subscriber_limit: int = 0
    sampler: dict[str, float | str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)    # what /action may ask of this model
    poses_received: int = 0
    performers: list[Performer] = field(default_factory=list)
    midi: Midi = field(default_factory=Midi)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Snapshot":
        """The inverse of to_dict. A key this version does not know is an error (TypeError): the two
        sides disagree, and guessing would show a wrong number."""
        d = dict(d)
        d["performers"] = [Performer(**p) for p in d.get("performers", [])]
        midi = dict(d.get("midi", {}))
        midi["controls"] = [Control(**c) for c in midi.get("controls", [])]
        d["midi"] = Midi(**midi)
        return cls(**d)

    def datagram(self) -> bytes:
        """The /bridge/status datagram: the snapshot as compact JSON, within STATUS_LIMIT bytes.
        What a big show does not fit is left out from the least needed up: the MIDI controls, the
        older errors, then performers after the first few (the count stays in `performers_total`)."""
        d = self.to_dict()
        text = _json(d)
        if len(text) + 40 > STATUS_LIMIT:
            d["midi"]["controls"] = []
            d["recent_errors"] = d["recent_errors"][-2:]
            d["subscribers"] = d["subscribers"][:4]
            text = _json(d)
        while len(text) + 40 > STATUS_LIMIT and len(d["performers"]) > 1:
            d["performers"] = d["performers"][:max(1, len(d["performers"]) // 2)]
            text = _json({**d, "performers_total": len(self.performers)})
        return osc.message("/bridge/status", text)


def _json(d: dict) -> str:
    return json.dumps(d, separators=(",", ":"))


def parse_status(text: str) -> Snapshot:
    """A /bridge/status JSON text → Snapshot (ValueError or TypeError when it is not one)."""
    d = json.loads(text)
    if not isinstance(d, dict):
        raise ValueError("a status must be a JSON object")
    d.pop("performers_total", None)
    return Snapshot.from_dict(d)
