"""The terminal dashboard, drawn from a status snapshot (a plain dict) and nothing else.

The daemon publishes snapshots; `serve` draws them at 4 Hz, and `monitor` draws the same
snapshots received as `/bridge/status` from a daemon elsewhere.
"""
from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

BAR = 20


def bar(value: float, width: int = BAR, style: str = "cyan") -> Text:
    filled = max(0, min(width, round(value * width)))
    return Text("█" * filled, style=style) + Text("·" * (width - filled), style="grey37")


def _health(s: dict) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    ok = s.get("fps", 0) >= 0.995 * s.get("fps_target", 30)
    t.add_row("fps", Text(f"{s.get('fps', 0):.2f} / {s.get('fps_target', 0):g}", style="green" if ok else "red"))
    t.add_row("step", f"p50 {s.get('step_p50_ms', 0):.2f} ms   p99 {s.get('step_p99_ms', 0):.2f} ms   "
                      f"started {s.get('lead_ms', 0):.1f} ms ahead")
    t.add_row("jitter p99", f"{s.get('jitter_p99_ms', 0):.2f} ms")
    t.add_row("frames", f"{s.get('frames', 0)}   missed {s.get('missed', 0)}   failed {s.get('failed', 0)}")
    threads = s.get("threads", {})
    if threads:
        ok = all(v == "ok" for v in threads.values())
        t.add_row("threads", Text("  ".join(f"{k} {v}" for k, v in threads.items()), style="green" if ok else "bold red"))
    t.add_row("OSC", f"in {s.get('osc_in_per_s', 0):.0f}/s   out {s.get('osc_out_per_s', 0):.0f}/s")
    lost = s.get("kernel_drops", 0)
    t.add_row("dropped", Text(f"by the socket (buffer full) {lost}   log lines {s.get('log_dropped', 0)}",
                              style="yellow" if lost else ""))
    t.add_row("listen", s.get("listen", "?"))
    t.add_row("send to", f"{s.get('send_to', '–')} and the subscribers")
    t.add_row("model", f"{s.get('model', '?')} on {s.get('device', '?')}, mode {s.get('mode', '?')}")
    sp = s.get("sampler", {})
    t.add_row("sampler", f"{sp.get('name', '?')}  variance ÷{sp.get('variance', 0):g}  temp {sp.get('temperature', 0):g}"
                         f"  k {sp.get('k', 0):g}  emotion w {sp.get('emotion_weight', 0):g}  hold {sp.get('hold', 0):g}"
                         f"  energy {sp.get('energy', 1):g}"
                         f"  glide {sp.get('glide', 0):g} s")
    midi = s.get("midi", {})
    t.add_row("MIDI", str(midi.get("status", "unavailable")) if isinstance(midi, dict) else str(midi))
    t.add_row("poses in", str(s.get("poses_received", 0)))
    return t


def _emotions(s: dict) -> Table:
    t = Table(box=None, padding=(0, 1), show_edge=False)
    t.add_column("emotion")
    for i, _ in enumerate(s.get("performers", [])):
        t.add_column(f"performer {i + 1}: target / recognised")
    labels = s.get("labels", [])
    for j, name in enumerate(labels):
        row = [name]
        for p in s.get("performers", []):
            row.append(bar(p["current"][j], style="cyan") + Text(" ") + bar(p["recognised"][j], style="magenta"))
        t.add_row(*row)
    t.add_row("pace m/s", *(f"{p.get('pace_target', 0):.2f} / {p.get('pace', 0):.2f}" for p in s.get("performers", [])))
    return t


def _midi(s: dict) -> Table | Text:
    midi = s.get("midi") if isinstance(s.get("midi"), dict) else {}
    controls = midi.get("controls", [])
    if not controls:
        return Text("")
    t = Table(box=None, padding=(0, 1), show_edge=False, title_justify="left")
    t.add_column("MIDI control")
    t.add_column("source")
    t.add_column("value", justify="right")
    t.add_column("")
    for c in controls:
        value = c.get("value")
        t.add_row(c["param"], c["source"], "" if value is None else f"{value:.3g}",
                  Text("pick-up: move to the value", style="yellow") if c.get("waiting") else "")
    if midi.get("learning"):
        t.add_row(Text(f"learning {midi['learning']}: move a control", style="bold magenta"), "", "", "")
    if midi.get("learned"):
        t.add_row(Text(f"learned {midi['learned']}", style="green"), "", "", "")
    return t


def _errors(s: dict) -> Table:
    t = Table.grid(padding=(0, 2))
    counts = s.get("errors", {})
    total = sum(counts.values())
    t.add_row(Text(f"{total} errors", style="yellow" if total else "green"),
              "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    for line in s.get("recent_errors", [])[-4:]:
        t.add_row("", Text(line[:110], style="yellow"))
    return t


def render(s: dict) -> Panel:
    if not s:
        return Panel("waiting for the first frame…", title="motionbridge")
    subs = s.get("subscribers", [])
    listed = ", ".join(subs[:6]) + (f" and {len(subs) - 6} more" if len(subs) > 6 else "")
    body = Group(_health(s), Text(""), _emotions(s), Text(""), _midi(s), Text(""),
                 Text(f"subscribers ({len(subs)} of {s.get('subscriber_limit', '?')}): {listed or 'none'}"),
                 _errors(s))
    return Panel(body, title=f"motionbridge {s.get('version', '')} · up {s.get('uptime_s', 0):.0f} s",
                 border_style="blue")


def status_line(s: dict) -> str:
    """One line for logs when there is no terminal."""
    if not s:
        return "starting"
    threads = s.get("threads", {})
    trouble = [f"{k} {v}" for k, v in threads.items() if v != "ok"]
    return (f"fps {s['fps']:.2f}/{s['fps_target']:g} step p99 {s['step_p99_ms']:.2f} ms jitter p99 "
            f"{s['jitter_p99_ms']:.2f} ms frames {s['frames']} missed {s['missed']} in {s['osc_in_per_s']:.0f}/s "
            f"errors {sum(s['errors'].values())} dropped {s.get('kernel_drops', 0)} subscribers {len(s['subscribers'])}"
            + (f" THREADS: {', '.join(trouble)}" if trouble else ""))
