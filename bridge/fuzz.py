"""Hostile datagrams, and a sender that fires them at a daemon from many ports.

`corpus` builds malformed and hostile OSC: random bytes, broken type tags, truncated strings,
negative and huge sizes, deep nesting, NaN/Inf/huge numbers and wrong types to every address the
daemon knows, and every packet that once silenced it. None of it is a valid command, so a daemon
that takes it all still dances to its operator. `python -m bridge.fuzz` sends it (see `main`).
"""
from __future__ import annotations

import argparse
import math
import random
import socket
import struct
import time

ADDRESSES = [
    "/emotion", "/emotion/va", "/emotion/a", "/emotion/b", "/emotion/happy", "/mix", "/variance", "/temperature",
    "/k", "/emotion_weight", "/hold", "/energy", "/sampler", "/glide", "/mode", "/seed", "/fps", "/pose/layout",
    "/pose", "/performer/1/emotion", "/performer/2/variance", "/performer/0/mix", "/wek/inputs", "/poses/arr",
    "/mediapipe/pose", "/bridge/subscribe", "/bridge/unsubscribe", "/midi/cc", "/midi/note", "/midi/learn",
    "/nowhere", "/emotion/furious",
]
# what each tag's argument looks like: bad values of every type the daemon might be sent
BAD_ARGS = [
    ("f", struct.pack(">f", math.nan)), ("f", struct.pack(">f", math.inf)), ("f", struct.pack(">f", -math.inf)),
    ("f", struct.pack(">f", 3.0e38)), ("d", struct.pack(">d", 1e300)), ("d", struct.pack(">d", math.nan)),
    ("d", struct.pack(">d", -1e200)), ("h", struct.pack(">q", 2 ** 62)), ("h", struct.pack(">q", -2 ** 40)),
    ("i", struct.pack(">i", -2 ** 31)), ("i", struct.pack(">i", 2 ** 31 - 1)), ("s", b"\xff\xfe\x00\x00"),
    ("s", b"x" * 300 + b"\x00" * 4), ("T", b""), ("F", b""), ("N", b""), ("I", b""), ("r", b"\x01\x02\x03\x04"),
    ("m", b"\x00\x90\x40\x7f"), ("t", b"\x00" * 7 + b"\x01"), ("b", struct.pack(">i", 3) + b"abc\x00"),
    ("c", struct.pack(">I", 0x10FFFF)),
]


def pad(b: bytes) -> bytes:
    return b + b"\x00" * (4 - len(b) % 4)


def message(address: str | bytes, tags: str, data: bytes = b"") -> bytes:
    address = address.encode() if isinstance(address, str) else address
    return pad(address) + pad(("," + tags).encode()) + data


def bundle(*elements: bytes, sizes: list[int] | None = None) -> bytes:
    out = b"#bundle\x00" + struct.pack(">Q", 1)
    for i, e in enumerate(elements):
        out += struct.pack(">i", len(e) if sizes is None else sizes[i]) + e
    return out


def repros() -> list[bytes]:
    """Every single packet that once stopped or silenced the daemon (issue 13)."""
    wek = message("/wek/inputs", "dd", struct.pack(">dd", 1e200, 1e200))
    return [
        b"#bundle\x00" + struct.pack(">Qi", 1, -4) + b"/x\x00\x00,\x00\x00\x00",     # looped forever
        message("/bridge/ping", "d", struct.pack(">d", 1e300)),
        message("/bridge/ping", "h", struct.pack(">q", 1099511627776)),
        message("/bridge/subscribe", "f", struct.pack(">f", math.inf)),
        message("/bridge/subscribe", "f", struct.pack(">f", math.nan)),
        message("/midi/cc", "fii", struct.pack(">fii", math.nan, 1, 1)),
        message("/emotion/va", "dd", struct.pack(">dd", 1e200, 1e200)),
        message("/bridge/ping", "r", b"\x01\x02\x03\x04"),
        message("/performer/" + "9" * 5000 + "/reset", ""),
        wek,
        bundle(*[wek] * 1600),                                                       # 65 kB of them
        bundle(*[b""] * 16000, sizes=[0] * 16000),                                   # 64 kB of empty elements
        message("/" + "x" * 65000, ""),                                              # echoed back in full
        message("/bridge/ping", "T" * 1000),                                         # 5× amplification
    ]


def corpus(seed: int = 0, size: int = 2000) -> list[bytes]:
    """`size` hostile datagrams, the repros among them, in a shuffled order."""
    rng = random.Random(seed)
    out = repros()
    while len(out) < size:
        kind = rng.randrange(9)
        address = rng.choice(ADDRESSES)
        if kind == 0:                                   # random bytes
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
        elif kind == 1:                                 # random bytes that start like OSC
            out.append(rng.choice([b"/", b"#bundle\x00"]) + bytes(rng.randrange(256) for _ in range(rng.randrange(200))))
        elif kind in (2, 3):                            # a known address, bad values
            args = [rng.choice(BAD_ARGS) for _ in range(rng.choice([1, 1, 2, 3, 7, 34]))]
            out.append(message(address, "".join(t for t, _ in args), b"".join(d for _, d in args)))
        elif kind == 4:                                 # broken type tags
            tags = rng.choice(["q", "[[[[[[[[", "]", "[f", "fff", "s", "b", "i" * 100])
            head = rng.choice([pad(address.encode()) + pad(("," + tags).encode()),
                               pad(address.encode()) + tags.encode() + b"\x00",
                               address.encode() + b",f"])
            out.append(head + bytes(rng.randrange(256) for _ in range(rng.randrange(8))))
        elif kind == 5:                                 # a well-formed bad message, truncated
            args = [rng.choice(BAD_ARGS) for _ in range(3)]
            m = message(address, "".join(t for t, _ in args), b"".join(d for _, d in args))
            out.append(m[:rng.randrange(1, len(m))])
        elif kind == 6:                                 # bundle elements of impossible sizes
            m = message(address, "f", struct.pack(">f", math.nan))
            out.append(bundle(m, sizes=[rng.choice([-4, -2 ** 31, 0, 3, 2 ** 31 - 1, len(m) + 4, 65536])]))
        elif kind == 7:                                 # bundles nested too deep, or holding too much
            inner = message(address, "N")
            for _ in range(rng.randrange(3, 12)):
                inner = bundle(inner)
            out.append(inner if rng.random() < 0.5 else bundle(*[message(address, "d", BAD_ARGS[4][1])] * 300))
        else:                                           # huge or hostile strings
            out.append(message(rng.choice([address, "/" + "é" * 200, "/\x00x", "/%s"]),
                               "s", pad(b"x" * rng.randrange(0, 3000))))
    out = [d[:65507] for d in out]                      # the most one UDP datagram over IPv4 can carry
    rng.shuffle(out)
    return out


def send(port: int, rate: float, ports: int, packets: int, seed: int = 0, host: str = "127.0.0.1") -> int:
    """Send `packets` datagrams from the corpus at `rate` a second, round-robin over `ports` source
    ports; returns how many were sent (a full send buffer skips one and goes on)."""
    datagrams = corpus(seed)
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(ports)]
    for s in socks:
        s.setblocking(False)
    target, sent, n = (host, port), 0, 0
    start = time.perf_counter()
    while n < packets:
        due = min(packets, int((time.perf_counter() - start) * rate) + 1)
        if n >= due:
            time.sleep(max(0.0, min(0.002, (n + 1) / rate - (time.perf_counter() - start))))
            continue
        while n < due:
            try:
                socks[n % ports].sendto(datagrams[n % len(datagrams)], target)
                sent += 1
            except OSError:
                pass
            n += 1
    for s in socks:
        s.close()
    return sent


def main() -> None:
    p = argparse.ArgumentParser(description="fire hostile OSC datagrams at a daemon")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--ports", type=int, default=16)
    p.add_argument("--packets", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(send(a.port, a.rate, a.ports, a.packets, a.seed), flush=True)


if __name__ == "__main__":
    main()
