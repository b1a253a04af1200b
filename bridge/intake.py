"""Which datagrams the daemon reads in full, decided before a byte of them is parsed.

Three checks, cheapest first, each a few dictionary operations:
- the sender's address must be in `--allow`;
- each sender (address and port) may send at most `per_sender` datagrams a second;
- senders in bad standing share a global budget of `budget` datagrams a second.

Standing is earned: a sender whose datagrams turned out valid is in good standing, one whose
datagrams were refused loses it, a newcomer starts in good standing until its first bad datagram.
Senders in good standing are served first, always (a performer's `/emotion` goes through however
many ports are sending garbage); the rest share what the budget leaves, and past it their
datagrams are taken from the socket and dropped unread, so the socket's buffer does not overflow
and drop everyone's packets alike.

Every table is bounded: past `MAX_SENDERS`, the sender heard from longest ago is forgotten.
"""
from __future__ import annotations

import collections
import ipaddress

MAX_SENDERS = 4096
STANDING_MIN, STANDING_MAX = -8, 8   # a bad datagram costs 1, a good one earns 1 back
GOOD_STANDING = -2                   # a sender above this is served first (a few mistakes are human)


class TokenBucket:
    """At most `rate` events a second, in bursts of up to `rate`."""

    __slots__ = ("rate", "tokens", "last")

    def __init__(self, rate: float, now: float):
        self.rate, self.tokens, self.last = rate, rate, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Bounded(collections.OrderedDict):
    """A dict that forgets the key used longest ago once it holds `limit` keys."""

    def __init__(self, limit: int = MAX_SENDERS):
        super().__init__()
        self.limit = limit

    def touch(self, key, make):
        value = self.get(key)
        if value is None:
            if len(self) >= self.limit:
                self.popitem(last=False)
            value = self[key] = make()
        else:
            self.move_to_end(key)
        return value


class Intake:
    def __init__(self, allow: list, per_sender: float, budget: float):
        self.allow = allow                      # ip_network objects
        self.per_sender, self.budget = per_sender, budget
        # (address, port) → [tokens, last time, standing, allowed]: a list, not an object, since
        # this is looked at for every datagram of a flood
        self.senders: Bounded = Bounded()
        self.shared = TokenBucket(budget, 0.0)

    def allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self.allow)

    def admit(self, sender: tuple, now: float) -> str:
        """'read', or why not: 'denied', 'flood' (over its own rate), 'budget' (bad standing,
        global budget spent)."""
        s = self.senders.get(sender)
        if s is None:
            s = self.senders.touch(sender, lambda: [self.per_sender, now, 0, self.allowed(sender[0])])
        else:
            self.senders.move_to_end(sender)
        if not s[3]:
            return "denied"
        rate = self.per_sender
        tokens = min(rate, s[0] + (now - s[1]) * rate)
        s[1] = now
        if tokens < 1.0:
            s[0] = tokens
            return "flood"
        s[0] = tokens - 1.0
        if s[2] > GOOD_STANDING or self.shared.take(now):
            return "read"
        return "budget"

    def judged(self, sender: tuple, good: bool) -> None:
        """How the sender's datagram turned out: valid, or refused."""
        s = self.senders.get(sender)
        if s is not None:
            s[2] = min(STANDING_MAX, s[2] + 1) if good else max(STANDING_MIN, s[2] - 1)

    def standing(self, sender: tuple) -> int:
        s = self.senders.get(sender)
        return 0 if s is None else s[2]
