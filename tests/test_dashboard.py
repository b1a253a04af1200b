import pytest
from rich.console import Console

from bridge import osc
from bridge.dashboard import fold, render, status_line
from bridge.status import STATUS_LIMIT, Control, Midi, Performer, Snapshot, parse_status

SNAPSHOT = Snapshot(
    version="0.1.0", uptime_s=12.0, listen="127.0.0.1:7700", send_to="127.0.0.1:7701",
    model="solo", device="cpu", mode="solo", fps_target=30, fps=29.98, frames=360,
    missed=0, failed=0, threads={"osc-in": "ok", "frames": "stalled 2.0 s"}, kernel_drops=3,
    subscriber_limit=32, step_p50_ms=1.9, step_p99_ms=2.7, jitter_p99_ms=0.4, osc_in_per_s=12,
    osc_out_per_s=31, packets_in=140, errors={"unknown address": 3},
    recent_errors=["10:00:01 unknown address /nope", "10:00:02 unknown address /nope", "10:00:03 unknown address /nope"],
    subscribers=["127.0.0.1:9000"],
    sampler={"name": "emotion", "variance": 2, "temperature": 1, "k": 1, "emotion_weight": 1, "glide": 1, "energy": 1.5},
    labels=["normal", "happy", "sad", "angry", "proud", "not-confident", "tired"], poses_received=0,
    midi=Midi("unavailable (no MIDI backend)", controls=[Control("variance", "CC 16", 3.0, True)]),
    performers=[Performer([0, 1, 0, 0, 0, 0, 0], [0.2, 0.8, 0, 0, 0, 0, 0], [0.1, 0.9, 0, 0, 0, 0, 0], 0.87, 1.32)] * 2,
)


def text_of(renderable, width: int) -> str:
    console = Console(width=width, color_system=None, force_terminal=False, record=True)
    console.print(renderable)
    return console.export_text()


def test_an_80_by_24_terminal_holds_what_matters_first():
    text = text_of(render(SNAPSHOT, height=24, width=80), 80)
    assert len(text.splitlines()) <= 24 and all(len(line) <= 80 for line in text.splitlines()), text
    assert not any(line.strip("│ ").startswith("ms") for line in text.splitlines())     # nothing wraps
    for expected in ("29.98 / 30", "missed 0", "p99 2.70 ms", "frames stalled 2.0 s", "3 errors",
                     "unknown address /nope ×3", "happy", "1: target / read", "2: target / read", "1.32 / 0.87",
                     "MIDI unavailable (no MIDI backend)", "pick-up: variance", "subscribers 1 of 32",
                     "dropped: kernel 3, log 0  barred 0"):
        assert expected in text, expected
    assert "█" in text and text.count("unknown address /nope") == 1     # folded into one line


def test_a_taller_terminal_also_shows_the_details():
    text = text_of(render(SNAPSHOT, height=50, width=120), 120)
    for expected in ("energy 1.5", "127.0.0.1:7701", "127.0.0.1:9000", "pick-up: move to the value", "solo on cpu"):
        assert expected in text, expected


def test_plain_status_line_and_empty_snapshot():
    assert "fps 29.98/30" in status_line(SNAPSHOT)
    assert "THREADS: frames stalled 2.0 s" in status_line(SNAPSHOT)
    assert "waiting for the first frame" in text_of(render(None), 80)


def test_status_datagram_round_trips_and_fits_one_ethernet_frame():
    (m,) = osc.parse(SNAPSHOT.datagram())
    assert parse_status(m.args[0]) == SNAPSHOT
    big = Snapshot(**{**vars(SNAPSHOT), "performers": SNAPSHOT.performers * 32,
                      "midi": Midi("ok", controls=[Control(f"emotion/label{i}", f"CC {i}", 0.5, False) for i in range(40)]),
                      "recent_errors": ["10:00:00 " + "x" * 160] * 6})
    datagram = big.datagram()
    assert len(datagram) <= STATUS_LIMIT
    (m,) = osc.parse(datagram)
    back = parse_status(m.args[0])
    assert 1 <= len(back.performers) < 64 and back.fps == 29.98


def test_a_field_one_side_does_not_know_is_an_error_not_a_zero():
    (m,) = osc.parse(SNAPSHOT.datagram())
    renamed = m.args[0].replace('"missed"', '"frames_missed"')
    with pytest.raises(TypeError):
        parse_status(renamed)


def test_fold_counts_repeats_and_keeps_the_newest_time():
    assert fold(["10:00:01 a", "10:00:02 b", "10:00:03 a"]) == ["10:00:03 a ×2", "10:00:02 b"]


def test_a_duet_show_says_who_leads_and_how_the_partners_limbs_move():
    pairs = [Performer([0] * 7, [0] * 7, [0] * 7, 0.9, 1.0, "dancer", 0.61, 1.4),
             Performer([0] * 7, [0] * 7, [0] * 7, 0.9, 1.0, "soloist (waiting for a dancer)", 0.58, 2.0)]
    text = text_of(render(Snapshot(**{**vars(SNAPSHOT), "mode": "partner", "performers": pairs}), height=50, width=120), 120)
    for expected in ("dancer", "soloist (waiting for a dancer)", "partner limbs m/s", "0.61 (×1.4)", "0.58 (×2.0)"):
        assert expected in text, expected


def test_a_model_that_takes_actions_shows_what_each_body_is_asked_to_do():
    bodies = [Performer([0] * 7, [0] * 7, [0] * 7, 0.9, 1.0, action="walk-left"), Performer([0] * 7, [0] * 7, [0] * 7, 0.9, 1.0)]
    text = text_of(render(Snapshot(**{**vars(SNAPSHOT), "actions": ["bow", "walk-left"], "performers": bodies}),
                          height=50, width=120), 120)
    row = next(line for line in text.splitlines() if "action" in line)
    assert "walk-left" in row and "none" in row
    assert "action" not in text_of(render(SNAPSHOT, height=50, width=120), 120)   # a model without actions: no row
