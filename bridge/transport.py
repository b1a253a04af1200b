"""The daemon's UDP transport: one socket in, one out, and who hears what.

- in: the listening socket, non-blocking, with a deep buffer; `take` reads what waits in it and
  decides, per datagram, whether it is read at all (`intake`: the allow list, bars, per-sender
  rates, standing, the global budget); the senders intake bars are dropped by the kernel
  (`sockfilter`) until their bar ends.
- out: frames to the configured target and the subscribers; replies to a sender never larger
  than the datagram they answer (`answer`), and errors rate-limited per host (`error`).
- subscribers: capped, and lapsing unless renewed.

Knows nothing of OSC addresses or the model: what a datagram means is `control`'s business.
"""
from __future__ import annotations

import errno
import os
import socket
import threading
import time
from typing import Callable

from . import osc, sockfilter
from .intake import BAR_AFTER, BAR_S, Bounded, Intake, TokenBucket
from .status import Stats

RCVBUF = 4 << 20
MAX_PACKETS_PER_SENDER = 2000     # per second per (address, port); beyond that, dropped unread
MAX_ERROR_REPLIES = 5             # per second per host
LARGEST = 65536                   # no UDP datagram is larger

Address = tuple[str, int]


class Subscribers:
    """Where frames go besides the configured output: at most `limit` (address, port) pairs, each
    lapsing `ttl` seconds after it last subscribed. The frame thread reads `targets`, a tuple
    replaced whole on every change, so it never sees the set change under it."""

    def __init__(self, limit: int, ttl: float):
        self.limit, self.ttl = limit, ttl
        self._until: dict[Address, float] = {}
        self._lock = threading.Lock()
        self.targets: tuple[Address, ...] = ()

    def add(self, target: Address, now: float) -> bool:
        """Subscribe or renew; False when full."""
        with self._lock:
            if target not in self._until and len(self._until) >= self.limit:
                return False
            self._until[target] = now + self.ttl
            self.targets = tuple(self._until)
            return True

    def remove(self, target: Address) -> bool:
        with self._lock:
            found = self._until.pop(target, None) is not None
            self.targets = tuple(self._until)
            return found

    def expire(self, now: float) -> list[Address]:
        with self._lock:
            gone = [t for t, until in self._until.items() if until < now]
            for t in gone:
                del self._until[t]
            self.targets = tuple(self._until)
            return gone

    def on_host(self, host: str) -> list[Address]:
        return [t for t in self.targets if t[0] == host]


def socket_drops(sock: socket.socket, last: int = 0) -> int:
    """How many datagrams the kernel dropped because the socket's buffer was full: the counter
    SO_RXQ_OVFL reports with each datagram, read once a second from /proc/net/udp (Linux) instead,
    so the receive loop pays nothing for it. Elsewhere `last`."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with open(table) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) > 12 and fields[9] == inode:
                        return int(fields[-1])
    except (OSError, ValueError):
        pass
    return last


def bind(host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket on (host, port). A port in use is an OSError that says which port
    and what to do."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise OSError(f"port {port} on {host} is in use by another program; stop it, or choose "
                          f"another port (--port)") from None
        raise OSError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.setblocking(False)
    return sock


class Transport:
    def __init__(self, host: str, port: int, target: Address, allow: list, budget: float, subscribers: int,
                 subscription_s: float, stats: Stats):
        self.stats = stats
        self.intake = Intake(allow, MAX_PACKETS_PER_SENDER, budget)
        self.sock = bind(host, port)
        self._grow_buffer()
        self._peek = bytearray(1)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.out.setblocking(False)
        self.target = target
        self.subscribers = Subscribers(subscribers, subscription_s)
        self.reply_room = 0               # bytes the datagram being handled may still be answered with
        self._error_limit: Bounded = Bounded()
        self._bars_filtered = 0           # intake.bars when the kernel filter was last written
        self.kernel_filter = sockfilter.attach(self.sock, [])   # False: bars are kept by intake alone

    @property
    def address(self) -> Address:
        return self.sock.getsockname()

    def _grow_buffer(self) -> None:
        """A deep receive buffer rides out bursts while a frame is computed. SO_RCVBUFFORCE passes
        the system's cap where we may (root); elsewhere SO_RCVBUF gets what the cap allows."""
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            if option is None:
                continue
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, option, RCVBUF)
                return
            except OSError:
                continue

    # ---- in -------------------------------------------------------------------------------------

    def take(self, limit: int, until: float, handle: Callable[[bytes, Address], None], largest: int = LARGEST) -> None:
        """Take up to `limit` datagrams waiting in the socket, without blocking, until the clock
        passes `until` or the next datagram is larger than `largest`; hand each one intake admits
        to `handle`. Under a flood most datagrams end at `admit`, so the loop up to there is kept
        to a few microseconds."""
        recvfrom, admit, clock, stats = self.sock.recvfrom, self.intake.admit, time.perf_counter, self.stats
        if self.intake.lift(clock()):
            self._filter()       # as every take starts, the frame thread's too: a barred flood wakes no one
        for _ in range(limit):
            if largest < LARGEST and self.next_size() > largest:
                return
            try:
                datagram, sender = recvfrom(LARGEST)
            except OSError:                   # nothing waiting (BlockingIOError), or closed on stop
                return
            stats.packets_in += 1
            now = clock()
            verdict = admit(sender, now)
            if verdict == "read":
                self.reply_room = len(datagram)
                handle(datagram, sender)
                now = clock()
            else:
                stats.errors[verdict] += 1
            if self.intake.bars != self._bars_filtered:     # that datagram got its sender barred
                self._barred(sender)
            if now > until:
                return

    def _barred(self, sender: Address) -> None:
        self.stats.error("barred sender", f"{sender[0]}:{sender[1]} barred for {BAR_S:g} s: its last "
                                          f"{BAR_AFTER} datagrams were all refused or left unread")
        self._filter()

    def _filter(self) -> None:
        """Have the kernel drop the barred senders' datagrams (where it can: see sockfilter)."""
        self._bars_filtered = self.intake.bars
        if self.kernel_filter and not sockfilter.attach(self.sock, list(self.intake.barred)):
            sockfilter.attach(self.sock, [])       # refused: leave no stale bars in the kernel
            self.kernel_filter = False

    def next_size(self) -> int:
        """The size of the next waiting datagram, without taking it (0 if none)."""
        try:
            return self.sock.recv_into(self._peek, 1, socket.MSG_PEEK | getattr(socket, "MSG_TRUNC", 0))
        except OSError:
            return 0

    def count_drops(self) -> None:
        self.stats.kernel_drops = socket_drops(self.sock, self.stats.kernel_drops)

    # ---- out ------------------------------------------------------------------------------------

    def targets(self) -> tuple[Address, ...]:
        return (self.target, *self.subscribers.targets)

    def send(self, datagram: bytes, target: Address) -> None:
        try:
            self.out.sendto(datagram, target)
            self.stats.datagrams_out += 1
        except OSError:   # a full send buffer or an unreachable subscriber must not stop the frame
            self.stats.send_failures += 1

    def answer(self, datagram: bytes | None, sender: Address) -> bool:
        """A reply to the datagram being handled: sent only if it fits in what that datagram's size
        leaves, so no request is answered with more bytes than it took to send. True if sent."""
        if datagram is None or len(datagram) > self.reply_room:
            self.stats.replies_withheld += 1
            return False
        self.reply_room -= len(datagram)
        self.send(datagram, sender)
        return True

    def error(self, sender: Address | None, text: str, kind: str) -> None:
        """Count an error; tell the sender (within its request's size) and the subscribers on the
        sender's host (a patch that subscribed sees why its message was refused, in full), at most
        MAX_ERROR_REPLIES a second per host."""
        self.stats.error(kind, text)
        if sender is None:
            return
        limit = self._error_limit.touch(sender[0], lambda: TokenBucket(MAX_ERROR_REPLIES, time.monotonic()))
        if not limit.take(time.monotonic()):
            return
        answered = self.answer(osc.reply("/bridge/error", text, self.reply_room), sender)
        full = osc.reply("/bridge/error", text, 512)
        for target in self.subscribers.on_host(sender[0]):
            # a subscriber hears it in full; the sender too, when it subscribed from its own port
            if full is not None and (target != sender or not answered):
                self.send(full, target)

    def close(self) -> None:
        self.sock.close()
        self.out.close()
