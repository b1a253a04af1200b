import pytest

from bridge.protocol import Reset, SetAction, SetParam
from bridge.midimap import Mapping, MidiMap, preset

CURRENT = {"variance": 2.0, "temperature": 1.0, "glide": 1.0, "mix": 0.0, "k": 1.0, "emotion_weight": 1.0,
           "emotion/happy": 0.0}


def values(commands):
    return [c.value if isinstance(c, SetParam) else (c.label, c.weight) for c in commands]


def test_curves_map_the_knob_onto_the_range():
    lin = Mapping("glide", cc=1, min=0, max=4)
    exp = Mapping("variance", cc=2, min=0.5, max=50)
    assert lin.scale(0.5) == 2.0
    assert exp.scale(0) == 0.5 and exp.scale(1) == pytest.approx(50) and exp.scale(0.5) == pytest.approx(5)
    assert exp.position(exp.scale(0.3)) == pytest.approx(0.3)


def test_pickup_ignores_the_knob_until_it_reaches_the_value():
    m = MidiMap([Mapping("glide", cc=21, min=0, max=4)])          # current glide 1.0 = knob at 0.25
    move = lambda v: values(m.handle("kbd", "cc", 1, 21, v, CURRENT))
    assert move(100) == [] and m.waiting(0)                       # far above: nothing jumps
    assert move(90) == []
    assert move(20) != []                                         # crossed 0.25 on the way down: picked up
    assert not m.waiting(0)
    assert move(64) == [pytest.approx(64 / 127 * 4)]


def test_pickup_rearms_when_something_else_moves_the_value():
    m = MidiMap([Mapping("glide", cc=21, min=0, max=4, takeover="pickup")])
    m.handle("kbd", "cc", 1, 21, 32, CURRENT)                     # 32/127·4 ≈ 1.0: picked up
    assert not m.waiting(0)
    elsewhere = {**CURRENT, "glide": 3.5}                         # an OSC message changed it
    assert m.handle("kbd", "cc", 1, 21, 40, elsewhere) == [] and m.waiting(0)


def test_jump_takeover_follows_at_once():
    m = MidiMap([Mapping("glide", cc=21, min=0, max=4, takeover="jump")])
    assert values(m.handle("kbd", "cc", 1, 21, 127, CURRENT)) == [4.0]


def test_fourteen_bit_pairs():
    m = MidiMap([Mapping("mix", cc=7, takeover="jump")])
    coarse = values(m.handle("kbd", "cc", 1, 7, 64, CURRENT))          # MSB alone
    fine = values(m.handle("kbd", "cc", 1, 39, 100, CURRENT))          # its LSB, CC 7 + 32
    assert coarse == [pytest.approx(64 / 127)]                         # a 7-bit controller stops here
    assert fine == [pytest.approx((64 * 128 + 100) / 16383)]
    assert m.handle("kbd", "cc", 1, 40, 5, CURRENT) == []              # LSB of an unmapped MSB


def test_channels_ports_notes_and_triggers():
    m = MidiMap([Mapping("variance", cc=16, channel=2, port="nano", takeover="jump"),
                 Mapping("reset", note=36), Mapping("sampler/dynamic", cc=34)])
    assert m.handle("nanoKONTROL2", "cc", 1, 16, 64, CURRENT) == []    # wrong channel
    assert m.handle("Launchkey", "cc", 2, 16, 64, CURRENT) == []       # wrong port
    assert len(m.handle("nanoKONTROL2 MIDI 1", "cc", 2, 16, 64, CURRENT)) == 1
    assert m.handle("pads", "note", 10, 36, 100, CURRENT) == [Reset()]
    assert m.handle("pads", "note", 10, 36, 0, CURRENT) == []          # note off
    assert m.handle("x", "cc", 1, 34, 127, CURRENT) == [SetParam("sampler", "dynamic")]
    assert m.handle("x", "cc", 1, 34, 0, CURRENT) == []                # button release


def test_learn_binds_the_next_control_and_round_trips_through_the_file(tmp_path):
    m = MidiMap()
    m.learn("temperature")
    assert m.handle("Arturia", "cc", 3, 74, 10, CURRENT) == []
    assert m.learned.cc == 74 and m.learned.channel == 3 and m.learned.port == "Arturia"
    path = tmp_path / "midi.toml"
    m.save(path)
    again = MidiMap.load(path)
    assert again.mappings == m.mappings
    with pytest.raises(ValueError, match="unknown parameter 'loudness'"):
        m.learn("loudness")


def test_presets_and_bad_files(tmp_path):
    nano = preset("nanokontrol2")
    params = {m.param: m for m in nano.mappings}
    assert params["emotion/normal"].cc == 0 and params["variance"].cc == 16 and params["mix"].cc == 7
    assert preset("modwheel").mappings[0].cc == 1
    bad = tmp_path / "bad.toml"
    bad.write_text('[[control]]\nparam = "variance"\n')
    with pytest.raises(ValueError, match="exactly one of cc or note"):
        MidiMap.load(bad)


def test_the_preset_s_emotion_faders_follow_the_model_s_labels():
    nano = preset("nanokontrol2", ["calm", "wild"])
    faders = [m.param for m in nano.mappings if m.param.startswith("emotion/")]
    assert faders == ["emotion/calm", "emotion/wild"]


def test_buttons_ask_for_an_action_or_none():
    m = MidiMap([Mapping("action/walk", note=40), Mapping("action/none", note=41)])
    assert m.handle("pads", "note", 1, 40, 100, CURRENT) == [SetAction("walk")]
    assert m.handle("pads", "note", 1, 41, 100, CURRENT) == [SetAction(None)]
    assert m.handle("pads", "note", 1, 40, 0, CURRENT) == []          # note off
    nano = {m.param: m.cc for m in preset("nanokontrol2").mappings}
    assert [nano[f"action/{a}"] for a in ("none", "walk", "bow")] == [65, 66, 71]
    with pytest.raises(ValueError, match="action/<name>"):
        Mapping("action/", note=1)
