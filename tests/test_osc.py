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


def test_parser_reads_what_python_osc_builds():
    from pythonosc.osc_bundle_builder import OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder
    m = OscMessageBuilder("/x")
    for value, tag in [(1, "i"), (2 ** 40, "h"), (1.5, "f"), (1e300, "d"), ("é s", "s"), (b"abc", "b"),
                       ((1, 2, 3, 4), "m"), (True, "T"), (False, "F"), (None, "N")]:
        m.add_arg(value, tag)
    m.add_arg([1, [2.5]])
    built = m.build()
    bundle = OscBundleBuilder(1)
    bundle.add_content(built)
    inner = OscBundleBuilder(1)
    inner.add_content(OscMessageBuilder("/y").build())
    bundle.add_content(inner.build())
    first, second = osc.parse(bundle.build().dgram)
    assert first.address == "/x" and list(first.args) == OscMessage(built.dgram).params
    assert first.raw == built.dgram and second.address == "/y" and second.args == ()


@pytest.mark.parametrize("datagram, says", [
    (b"#bundle\x00" + struct.pack(">Qi", 1, -4) + b"/x\x00\x00,\x00\x00\x00", "size -4"),
    (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 0) * 16000, "size 0"),
    (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 2 ** 31 - 1) + b"/x\x00\x00", "size 2147483647"),
    (b"/x\x00\x00,[[[[[[f]]]]]]\x00\x00\x00\x00" + b"\x00" * 4, "nested more than 4 deep"),
    (b"/x\x00\x00,q\x00\x00", "unknown type tag 'q'"),
    (b"/x\x00\x00,s\x00\x00abc", "not NUL-terminated"),
    (b"/x\x00\x00,b\x00\x00" + struct.pack(">i", -8), "blob of -8 bytes"),
    (b"/x\x00\x00,f\x00\x00" + b"\x00" * 8, "bytes left over"),
    (b"/x\x00\x00f\x00\x00\x00", "must start with ','"),
    (b"/\xff\x00\x00", "not UTF-8"),
])
def test_every_size_and_count_is_checked_against_the_bytes(datagram, says):
    with pytest.raises(osc.OscError, match=says):
        osc.parse(datagram)


def test_bundles_nest_and_count_within_bounds():
    from bridge.fuzz import bundle, message
    deep = message("/x", "")
    for _ in range(osc.MAX_DEPTH):
        deep = bundle(deep)
    assert len(osc.parse(deep)) == 1
    with pytest.raises(osc.OscError, match="nested more than"):
        osc.parse(bundle(deep))
    assert len(osc.parse(bundle(*[message("/x", "")] * osc.MAX_MESSAGES))) == osc.MAX_MESSAGES
    with pytest.raises(osc.OscError, match="more than 64 messages"):
        osc.parse(bundle(*[message("/x", "")] * (osc.MAX_MESSAGES + 1)))


def test_the_whole_hostile_corpus_is_refused_in_bounded_time():
    import time
    from bridge.fuzz import corpus
    slowest = 0.0
    for datagram in corpus(seed=1, size=3000):
        start = time.thread_time()      # this thread's CPU time: other work on the machine does not count
        try:
            osc.parse(datagram)
        except osc.OscError:
            pass
        slowest = max(slowest, time.thread_time() - start)
    assert slowest < 0.05        # the worst is about a millisecond


def test_replies_are_cut_to_the_size_of_their_request():
    text = "unknown emotion 'furious'; this model knows: normal, happy, sad"
    for limit in range(0, 120):
        r = osc.reply("/bridge/error", text, limit)
        assert r is None if limit < 24 else len(r) <= limit and OscMessage(r).params[0]
    assert OscMessage(osc.reply("/bridge/error", text, 1000)).params == [text]
