"""The terminal dashboard, drawn from a status snapshot (`status.Snapshot`) and nothing else.

The daemon publishes snapshots; `serve` draws them at 4 Hz, and `monitor` draws the same
snapshots received as `/bridge/status` from a daemon elsewhere. What matters first comes first
(frame rate, missed frames, errors, the performers), and an 80×24 terminal holds all of that; a
taller one also shows the sampler, the addresses, the subscribers and the MIDI controls.
"""
from __future__ import annotations

import re

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .params import PARAMS
from .status import Snapshot

BAR = 10
ROOMY = 32            # terminal lines from which the details are shown too


def bar(value: float, width: int = BAR, style: str = "cyan") -> Text:
    filled = max(0, min(width, round(value * width)))
    return Text("█" * filled, style=style) + Text("·" * (width - filled), style="grey37")


def _health(s: Snapshot, roomy: bool) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    ok = s.fps >= 0.995 * s.fps_target
    t.add_row("fps", Text(f"{s.fps:.2f} / {s.fps_target:g}", style="green" if ok else "red")
              + Text(f"   frames {s.frames}   missed {s.missed}   failed {s.failed}",
                     style="red" if s.missed or s.failed else ""))
    t.add_row("step", f"p50 {s.step_p50_ms:.2f} ms  p99 {s.step_p99_ms:.2f} ms  started {s.lead_ms:.1f} ms ahead"
                      f"  jitter p99 {s.jitter_p99_ms:.2f} ms")
    trouble = {k: v for k, v in s.threads.items() if v != "ok"}
    t.add_row("threads", Text("  ".join(f"{k} {v}" for k, v in trouble.items()), style="bold red")
              if trouble else Text("all ok" if s.threads else "starting", style="green"))
    t.add_row("OSC", Text(f"in {s.osc_in_per_s:.0f}/s  out {s.osc_out_per_s:.0f}/s  dropped: kernel "
                          f"{s.kernel_drops}, log {s.log_dropped}  barred {s.barred}",
                          style="yellow" if s.kernel_drops or s.barred else ""))
    if roomy:
        t.add_row("listen", f"{s.listen}   send to {s.send_to} and the subscribers")
        t.add_row("model", f"{s.model} on {s.device}, mode {s.mode}")
        sp = s.sampler
        t.add_row("live", f"sampler {sp.get('name', '?')}  " + "  ".join(
            f"{name} {sp[name]:g}" for name in PARAMS if isinstance(sp.get(name), (int, float))))
        t.add_row("poses in", str(s.poses_received))
    return t


def _performers(s: Snapshot, room: int) -> Table:
    """Emotion bars, target then recognised, for as many performers as fit across."""
    shown = s.performers[:room]
    t = Table(box=None, padding=(0, 1), show_edge=False)
    t.add_column("emotion")
    for i, _ in enumerate(shown):
        t.add_column(f"{i + 1}: target / read")
    for j, name in enumerate(s.labels):
        t.add_row(name, *(bar(p.current[j]) + Text(" ") + bar(p.recognised[j], style="magenta") for p in shown))
    t.add_row("pace m/s", *(f"{p.pace_target:.2f} / {p.pace:.2f}" for p in shown))
    if s.actions:
        t.add_row("action", *(p.action or Text("none", style="grey50") for p in shown))
    if any(p.lead for p in shown):
        t.add_row("lead", *(Text(p.lead, style="yellow" if "waiting" in p.lead else "green") for p in shown))
        t.add_row("partner limbs m/s", *(f"{p.partner_limbs:.2f} (×{p.partner_gain:.1f})" for p in shown))
    if len(s.performers) > len(shown):
        t.add_row(Text(f"and {len(s.performers) - len(shown)} more performers", style="grey50"))
    return t


def _midi(s: Snapshot, roomy: bool) -> Table | Text:
    m = s.midi
    line = Text(f"MIDI {m.status}")
    if m.learning:
        line += Text(f"   learning {m.learning}: move a control", style="bold magenta")
    if m.learned:
        line += Text(f"   learned {m.learned}", style="green")
    waiting = [c.param for c in m.controls if c.waiting]
    if waiting and not roomy:
        line += Text(f"   pick-up: {', '.join(waiting[:3])}", style="yellow")
    if not roomy or not m.controls:
        return line
    t = Table(box=None, padding=(0, 1), show_edge=False, title=line, title_justify="left")
    for col in ("control", "source", "value", ""):
        t.add_column(col)
    for c in m.controls:
        t.add_row(c.param, c.source, "" if c.value is None else f"{c.value:.3g}",
                  Text("pick-up: move to the value", style="yellow") if c.waiting else "")
    return t


def fold(lines: list[str]) -> list[str]:
    """Repeated errors as one line with a count: the newest time, the text, ×n."""
    folded: dict[str, list] = {}
    for line in lines:
        when, _, text = line.partition(" ") if re.match(r"\d\d:\d\d:\d\d ", line) else ("", "", line)
        entry = folded.setdefault(text, [when, 0])
        entry[0], entry[1] = when, entry[1] + 1
    return [f"{when} {text}".strip() + (f" ×{n}" if n > 1 else "") for text, (when, n) in folded.items()]


def _errors(s: Snapshot, lines: int) -> Table:
    t = Table.grid(padding=(0, 2))
    total = sum(s.errors.values())
    t.add_row(Text(f"{total} errors", style="yellow" if total else "green"),
              "  ".join(f"{k}: {v}" for k, v in sorted(s.errors.items())))
    for line in fold(s.recent_errors)[-lines:]:
        t.add_row("", Text(line, style="yellow", overflow="ellipsis", no_wrap=True))
    return t


def render(s: Snapshot | None, height: int = 24, width: int = 80) -> Panel:
    if s is None or not s.version:
        return Panel("waiting for the first frame…", title="motionbridge")
    roomy = height >= ROOMY
    subs = s.subscribers
    listed = ", ".join(subs[:6]) + (f" and {len(subs) - 6} more" if len(subs) > 6 else "")
    parts = [_health(s, roomy), _performers(s, max(1, (width - 20) // 22)), _midi(s, roomy),
             _errors(s, 4 if roomy else 2)]
    if roomy:
        parts.append(Text(f"subscribers ({len(subs)} of {s.subscriber_limit}): {listed or 'none'}"))
    else:
        parts.append(Text(f"subscribers {len(subs)} of {s.subscriber_limit}   model {s.model} on {s.device}"))
    return Panel(Group(*parts), title=f"motionbridge {s.version} · up {s.uptime_s:.0f} s", border_style="blue")


def status_line(s: Snapshot | None) -> str:
    """One line for logs when there is no terminal."""
    if s is None or not s.version:
        return "starting"
    trouble = [f"{k} {v}" for k, v in s.threads.items() if v != "ok"]
    return (f"fps {s.fps:.2f}/{s.fps_target:g} step p99 {s.step_p99_ms:.2f} ms jitter p99 "
            f"{s.jitter_p99_ms:.2f} ms frames {s.frames} missed {s.missed} in {s.osc_in_per_s:.0f}/s "
            f"errors {sum(s.errors.values())} dropped {s.kernel_drops} subscribers {len(s.subscribers)}"
            + (f" THREADS: {', '.join(trouble)}" if trouble else ""))
