"""The kernel filter over real UDP sockets: a barred sender's datagrams never reach the socket."""
import socket
import sys

import pytest

from bridge import sockfilter
from bridge.transport import socket_drops

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="socket filters are Linux's")


def udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def received(sock: socket.socket) -> list[bytes]:
    """Everything waiting, then a marker sent last from an unbarred port, so nothing is waited on
    by the clock: datagrams on the loopback arrive in order."""
    marker = udp()
    marker.sendto(b"end", sock.getsockname())
    sock.settimeout(5.0)
    got = []
    while (d := sock.recv(100)) != b"end":
        got.append(d)
    return got


def test_barred_senders_are_dropped_by_the_kernel_and_counted_as_drops():
    daemon, barred, other, also_barred = udp(), udp(), udp(), udp()
    assert sockfilter.attach(daemon, [barred.getsockname(), also_barred.getsockname()])
    for s, text in ((barred, b"a"), (other, b"b"), (also_barred, b"c"), (barred, b"d")):
        s.sendto(text, daemon.getsockname())
    assert received(daemon) == [b"b"]
    assert socket_drops(daemon) == 3
    assert sockfilter.attach(daemon, [])                 # lifted: all heard again
    barred.sendto(b"e", daemon.getsockname())
    assert received(daemon) == [b"e"]


def test_the_same_port_on_another_address_is_not_barred():
    daemon, sender = udp(), udp()
    port = sender.getsockname()[1]
    assert sockfilter.attach(daemon, [("127.0.0.2", port)])
    sender.sendto(b"a", daemon.getsockname())
    assert received(daemon) == [b"a"]


def test_a_filter_holds_at_most_its_limit():
    daemon = udp()
    many = [("127.0.0.1", 20000 + i) for i in range(sockfilter.MAX_BARRED)]
    assert sockfilter.attach(daemon, many)
    with pytest.raises(ValueError):
        sockfilter.program(many + [("127.0.0.1", 1)])
