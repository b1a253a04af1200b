from rich.console import Console

from bridge.dashboard import render, status_line

SNAPSHOT = {
    "version": "0.1.0", "uptime_s": 12.0, "listen": "127.0.0.1:7700", "send_to": "127.0.0.1:7701",
    "model": "solo", "device": "cpu", "mode": "solo", "fps_target": 30, "fps": 29.98, "frames": 360,
    "missed": 0, "failed": 0, "threads": {"osc-in": "ok", "frames": "stalled 2.0 s"}, "kernel_drops": 3,
    "subscriber_limit": 32, "step_p50_ms": 1.9, "step_p99_ms": 2.7, "jitter_p99_ms": 0.4, "osc_in_per_s": 12,
    "osc_out_per_s": 31, "packets_in": 140, "errors": {"unknown address": 2}, "recent_errors":
    ["10:00:01 unknown address /nope"], "subscribers": ["127.0.0.1:9000"],
    "sampler": {"name": "emotion", "variance": 2, "temperature": 1, "k": 1, "emotion_weight": 1, "glide": 1,
                "energy": 1.5},
    "labels": ["normal", "happy"], "poses_received": 0, "midi": "unavailable",
    "performers": [{"target": [0, 1], "current": [0.2, 0.8], "recognised": [0.1, 0.9], "pace": 0.87,
                    "pace_target": 1.32}],
}


def test_dashboard_renders_from_a_snapshot_without_a_terminal():
    console = Console(width=120, color_system=None, force_terminal=False, record=True)
    console.print(render(SNAPSHOT))
    text = console.export_text()
    for expected in ("29.98 / 30", "p99 2.70 ms", "127.0.0.1:9000", "unknown address /nope", "happy",
                     "performer 1", "energy 1.5", "MIDI", "unavailable", "emotion", "1.32 / 0.87",
                     "frames stalled 2.0 s", "by the socket (buffer full) 3", "subscribers (1 of 32)"):
        assert expected in text, expected
    assert "█" in text


def test_plain_status_line_and_empty_snapshot():
    assert "fps 29.98/30" in status_line(SNAPSHOT)
    assert "THREADS: frames stalled 2.0 s" in status_line(SNAPSHOT)
    console = Console(width=80, color_system=None, record=True)
    console.print(render({}))
    assert "waiting for the first frame" in console.export_text()
