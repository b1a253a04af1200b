"""OSC on the wire: fast packing of outgoing frames, strict parsing of incoming packets.

Outgoing messages are packed straight from arrays (one struct call per message instead of
python-osc's builder, ~100× faster), gathered into bundles with the IMMEDIATE timetag and split
so that no datagram is larger than 1,472 bytes (one Ethernet frame, no IP fragmentation).
Incoming packets are parsed by our own strict parser (python-osc's loops forever on some bundles
and logs on others); timetags are never waited on.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable

import numpy as np

MAX_DATAGRAM = 1472
IMMEDIATELY = struct.pack(">Q", 1)
_BUNDLE_HEAD = b"#bundle\x00" + IMMEDIATELY


def _pad(b: bytes) -> bytes:
    """OSC strings end in a NUL and are padded to a multiple of four bytes."""
    return b + b"\x00" * (4 - len(b) % 4)


def message(address: str, *args) -> bytes:
    """A message of int (i), float (f, float32) and str (s) arguments, and numpy float arrays."""
    tags, data = [","], []
    for a in args:
        if isinstance(a, np.ndarray):
            flat = np.ascontiguousarray(a, dtype=">f4").ravel()
            tags.append("f" * flat.size)
            data.append(flat.tobytes())
        elif isinstance(a, bool) or isinstance(a, (int, np.integer)):
            tags.append("i")
            data.append(struct.pack(">i", int(a)))
        elif isinstance(a, (float, np.floating)):
            tags.append("f")
            data.append(struct.pack(">f", float(a)))
        elif isinstance(a, str):
            tags.append("s")
            data.append(_pad(a.encode()))
        else:
            raise TypeError(f"cannot send {type(a).__name__} over OSC")
    return _pad(address.encode()) + _pad("".join(tags).encode()) + b"".join(data)


def bundles(messages: Iterable[bytes], limit: int = MAX_DATAGRAM) -> list[bytes]:
    """Pack messages into as few IMMEDIATE bundles as fit in `limit` bytes each, in order.

    A message too large for any bundle goes alone as a plain message (the caller chose its size).
    """
    out, current, size = [], [], len(_BUNDLE_HEAD)
    for m in messages:
        item = struct.pack(">i", len(m)) + m
        if current and size + len(item) > limit:
            out.append(_BUNDLE_HEAD + b"".join(current))
            current, size = [], len(_BUNDLE_HEAD)
        if len(_BUNDLE_HEAD) + len(item) > limit:
            out.append(m)
            continue
        current.append(item)
        size += len(item)
    if current:
        out.append(_BUNDLE_HEAD + b"".join(current))
    return out


@dataclass(frozen=True)
class Message:
    address: str
    args: tuple
    raw: bytes = b""       # the message's own bytes, as they came (a pong echoes them)


class OscError(ValueError):
    """A datagram that is not valid OSC."""


MAX_DEPTH = 4          # bundles inside bundles, and arrays inside arrays
MAX_MESSAGES = 64      # in one datagram: what one packet can ask of the daemon is bounded
_FIXED = {"i": ">i", "f": ">f", "h": ">q", "d": ">d", "c": ">I", "r": ">BBBB", "m": ">BBBB", "t": ">II"}
_SIZES = {tag: struct.calcsize(fmt) for tag, fmt in _FIXED.items()}
_CONSTANTS = {"T": True, "F": False, "N": None, "I": None}   # no bytes; I (impulse) reads as nothing


def parse(datagram: bytes) -> list[Message]:
    """Every message in a datagram, bundles flattened, timetags ignored (we never wait on them).

    Our own parser, for input nobody vouches for: every size and count is checked against the
    bytes that are there, bundles and arrays nest at most MAX_DEPTH deep, a datagram holds at most
    MAX_MESSAGES messages (counted before any is parsed), and nothing is logged. Each step moves
    forward by at least four bytes, so the work is linear in the datagram's length and ends.
    Raises OscError saying what is wrong.
    """
    data = bytes(datagram)
    if data.startswith(b"#bundle\x00"):
        spans: list[tuple[int, int]] = []
        _bundle(data, 0, len(data), 1, spans)
        return [_message(data, start, end) for start, end in spans]
    if data[:1] == b"/":
        return [_message(data, 0, len(data))]
    raise OscError("not an OSC packet (must start with '/' or '#bundle')")


def _bundle(data: bytes, at: int, end: int, depth: int, spans: list[tuple[int, int]]) -> None:
    """Where each message of a bundle lies, sizes checked, without parsing the messages."""
    if depth > MAX_DEPTH:
        raise OscError(f"bundles nested more than {MAX_DEPTH} deep")
    if end - at < 16:
        raise OscError("a bundle shorter than its header and timetag")
    at += 16
    while at < end:
        if end - at < 4:
            raise OscError("a bundle element's size runs past the end of the packet")
        (size,) = struct.unpack_from(">i", data, at)
        at += 4
        if size <= 0 or size % 4 or size > end - at:
            raise OscError(f"a bundle element of size {size}, with {end - at} bytes left (sizes are "
                           "positive multiples of 4)")
        if data.startswith(b"#bundle\x00", at):
            _bundle(data, at, at + size, depth + 1, spans)
        elif data[at:at + 1] == b"/":
            if len(spans) == MAX_MESSAGES:
                raise OscError(f"more than {MAX_MESSAGES} messages in one packet")
            spans.append((at, at + size))
        else:
            raise OscError("a bundle element that is neither a message nor a bundle")
        at += size


def _string(data: bytes, at: int, end: int, what: str) -> tuple[str, int]:
    """An OSC string at `at`: its text, and where the next item starts."""
    nul = data.find(b"\x00", at, end)
    if nul < 0:
        raise OscError(f"{what} is not NUL-terminated inside the packet")
    after = at + (nul - at) // 4 * 4 + 4
    if after > end:
        raise OscError(f"{what} is not padded to four bytes inside the packet")
    try:
        return data[at:nul].decode(), after
    except UnicodeDecodeError:
        raise OscError(f"{what} is not UTF-8") from None


def _message(data: bytes, start: int, end: int) -> Message:
    address, at = _string(data, start, end, "the address")
    if at == end:                               # OSC 1.0 lets old senders leave out the type tags
        return Message(address, (), data[start:end])
    if data[at:at + 1] != b",":
        raise OscError(f"{clip(address)}: the type tag string must start with ','")
    tags, at = _string(data, at, end, "the type tag string")
    args: list = []
    stack = [args]
    for tag in tags[1:]:
        if tag in _SIZES:
            if at + _SIZES[tag] > end:
                raise OscError(f"{clip(address)}: its arguments are shorter than its type tags ({tags}) say")
            value = struct.unpack_from(_FIXED[tag], data, at)
            at += _SIZES[tag]
            if tag == "c":
                value = chr(value[0]) if value[0] < 0x110000 else "\ufffd"
            elif tag in "ifhd":
                value = value[0]
        elif tag in "sS":
            value, at = _string(data, at, end, f"{clip(address)}: a string argument")
        elif tag == "b":
            if at + 4 > end:
                raise OscError(f"{clip(address)}: a blob's size runs past the end of the packet")
            (size,) = struct.unpack_from(">i", data, at)
            if size < 0 or at + 4 + size > end:
                raise OscError(f"{clip(address)}: a blob of {size} bytes does not fit in the packet")
            value = data[at + 4:at + 4 + size]
            at += 4 + (size + 3) // 4 * 4
        elif tag in _CONSTANTS:
            value = _CONSTANTS[tag]
        elif tag == "[":
            if len(stack) > MAX_DEPTH:
                raise OscError(f"{clip(address)}: arrays nested more than {MAX_DEPTH} deep")
            nested: list = []
            stack[-1].append(nested)
            stack.append(nested)
            continue
        elif tag == "]":
            if len(stack) == 1:
                raise OscError(f"{clip(address)}: ']' without '[' in its type tags")
            stack.pop()
            continue
        else:
            raise OscError(f"{clip(address)}: unknown type tag {tag!r}")
        stack[-1].append(value)
    if len(stack) != 1:
        raise OscError(f"{clip(address)}: '[' without ']' in its type tags")
    if at > end:
        raise OscError(f"{clip(address)}: its arguments are shorter than its type tags ({tags}) say")
    if at != end:
        raise OscError(f"{clip(address)}: {end - at} bytes left over after the arguments")
    return Message(address, tuple(args), data[start:end])


def clip(text: str, limit: int = 48) -> str:
    """Text from a sender, shortened for an error message: we never echo much of what came in."""
    return text if len(text) <= limit else text[:limit] + "…"


def reply(address: str, text: str, limit: int) -> bytes | None:
    """A message `address s text` of at most `limit` bytes, the text cut to fit (None if even an
    empty text would not fit): a reply is never larger than the request that caused it."""
    head = _pad(address.encode()) + b",s\x00\x00"
    room = (limit - len(head)) // 4 * 4 - 1          # bytes of text that fit with their NUL padding
    if room < 0:
        return None
    encoded = text.encode()
    if len(encoded) > room:
        cut = "…".encode()
        encoded = encoded[:max(0, room - len(cut))].decode(errors="ignore").encode()
        encoded = (encoded + cut)[:room] if room >= len(cut) else encoded[:room]
    return head + _pad(encoded)
