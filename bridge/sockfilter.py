"""Barring senders in the kernel: a classic BPF socket filter (Linux) that drops the datagrams of
the senders listed, before they are queued on the socket.

Under a flood the daemon's cost is not parsing (intake refuses most datagrams unread) but taking
each datagram out of the socket, a few microseconds of Python apiece, and the socket's buffer,
which overflows while a frame is computed and then drops a performer's datagram as readily as an
attacker's. A barred sender costs the daemon nothing: the kernel drops its datagrams on arrival,
in the sender's own time. Whom to bar, and for how long, is `intake`'s business; this module only
writes the program.

The filter sees a UDP datagram from its UDP header on: the source port is the half-word at
offset 0, and the IPv4 source address is reached through the network header (SKF_NET_OFF).
Elsewhere than Linux `attach` does nothing and says so: intake still refuses a barred sender's
datagrams, unread.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import socket
import struct
import sys

SO_ATTACH_FILTER = 26           # Linux, asm-generic/socket.h
SO_DETACH_FILTER = 27
SKF_NET_OFF = -0x100000         # loads relative to the network (IP) header
IPV4_SOURCE = 12                # the source address's offset in an IPv4 header

# classic BPF opcodes (linux/filter.h)
LD_W_ABS, LD_H_ABS, LD_MEM, ST = 0x20, 0x28, 0x60, 0x02
JEQ_K, RET_K = 0x15, 0x06
KEEP, DROP = 0xFFFFFFFF, 0

MAX_BARRED = 256                # senders in one filter, 5 instructions each: well inside the kernel's 4,096


def _op(code: int, k: int = 0, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


@functools.lru_cache(maxsize=4 * MAX_BARRED)
def _barring(host: str, port: int) -> bytes:
    """The five instructions that drop one sender's datagrams (cached: a filter is rewritten
    whole each time a bar starts or ends, sometimes while a frame is starting)."""
    address = struct.unpack(">I", socket.inet_aton(host))[0]
    return b"".join([_op(JEQ_K, port, 0, 4),        # another port: on to the next sender
                     _op(LD_MEM, 0),                # A = address
                     _op(JEQ_K, address, 0, 1),
                     _op(RET_K, DROP),
                     _op(LD_H_ABS, 0)])             # same port, another address: A = port again


HEAD = _op(LD_W_ABS, SKF_NET_OFF + IPV4_SOURCE) + _op(ST, 0) + _op(LD_H_ABS, 0)   # M[0] = address, A = port
TAIL = _op(RET_K, KEEP)


def program(senders: list[tuple[str, int]]) -> tuple[bytes, int]:
    """The filter's instructions, and how many: drop a datagram whose IPv4 (source address, port)
    is listed, keep every other. The port is compared first, since on one machine every sender
    has the same address: a datagram from an unlisted port costs one comparison per listed sender."""
    if len(senders) > MAX_BARRED:
        raise ValueError(f"at most {MAX_BARRED} senders can be barred, got {len(senders)}")
    return HEAD + b"".join(_barring(host, port) for host, port in senders) + TAIL, 4 + 5 * len(senders)


def attach(sock: socket.socket, senders: list[tuple[str, int]]) -> bool:
    """Replace `sock`'s filter with one barring `senders` (none: remove it). False where the system
    has no socket filters or refuses this one; the caller then refuses those senders itself."""
    if sys.platform != "linux":
        return False
    try:
        if not senders:
            sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
            return True
        ops, count = program(senders)
        code = ctypes.create_string_buffer(ops)
        # struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the kernel copies
        # the program during the call, so `code` need only outlive it
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HP", count, ctypes.addressof(code)))
        return True
    except OSError as e:
        if not senders and e.errno == errno.ENOENT:     # there was no filter to remove
            return True
        return False
