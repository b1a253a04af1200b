import struct

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge import osc


def test_packed_messages_match_python_osc_byte_for_byte():
    values = np.linspace(-1, 1, 63, dtype=np.float32)
    builder = OscMessageBuilder("/motion/1/pose")
    for v in values:
        builder.add_arg(float(v), "f")
    assert osc.message("/motion/1/pose", values) == builder.build().dgram
    mixed = OscMessage(osc.message("/motion/schema", "canonical", 3, 0.5))
    assert mixed.params == ["canonical", 3, 0.5]


def test_bundles_are_immediate_and_never_exceed_one_ethernet_frame():
    messages = [osc.message(f"/motion/{p}/pose", np.zeros(99, np.float32)) for p in range(1, 9)]
    datagrams = osc.bundles(messages)
    assert len(datagrams) > 1 and all(len(d) <= 1472 for d in datagrams)
    got = []
    for d in datagrams:
        b = OscBundle(d)
        assert struct.unpack(">Q", d[8:16])[0] == 1
        got += [m.address for m in b]
    assert got == [f"/motion/{p}/pose" for p in range(1, 9)]


@pytest.mark.parametrize("garbage", [b"", b"hello", b"/x\x00\x00,f\x00\x00\x01", b"#bundle\x00\x00", bytes(range(256))])
def test_garbage_is_a_clear_error(garbage):
    with pytest.raises(osc.OscError):
        list(osc.parse(garbage))
