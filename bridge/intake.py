"""Which datagrams the daemon reads in full, decided before a byte of them is parsed.

Four checks, cheapest first, each a few dictionary operations:
- the sender's address must be in `--allow`;
- a barred sender is refused outright;
- each sender (address and port) may send at most `per_sender` datagrams a second;
- senders in bad standing share a global budget of `budget` datagrams a second.

Standing is earned: a sender whose datagrams turned out valid is in good standing, one whose
datagrams were refused loses it, a newcomer starts in good standing until its first bad datagram.
Senders in good standing are served first, always (a performer's `/emotion` goes through however
many ports are sending garbage); the rest share what the budget leaves, and past it their
datagrams are taken from the socket and dropped unread, so the socket's buffer does not overflow
and drop everyone's packets alike.

A sender whose last BAR_AFTER datagrams were all refused (or, in bad standing, left unread for
the budget) is barred for BAR_S seconds: nothing it sent would have been applied, and the
transport has the kernel drop its datagrams (`sockfilter`), so it costs the daemon nothing at
all. A patch that sends some good messages among bad ones is never barred; one that sends only
bad ones loses nothing it would have had, and is heard again (its fix too) within BAR_S seconds,
on probation: its next datagram refused bars it again at once, so a flood that outlasts its bar
costs one datagram read per bar.

Every table is bounded: past `MAX_SENDERS`, the sender heard from longest ago is forgotten; at
most MAX_BARRED senders are barred at once.
"""
from __future__ import annotations

import collections
import ipaddress

from .sockfilter import MAX_BARRED  # senders barred at once: the kernel filter's size

MAX_SENDERS = 4096
STANDING_MIN, STANDING_MAX = -8, 8   # a bad datagram costs 1, a good one earns 1 back
GOOD_STANDING = -2                   # a sender above this is served first (a few mistakes are human)
BAR_AFTER = 64                       # datagrams refused in a row before a sender is barred
BAR_S = 5.0                          # seconds a bar lasts


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
        # (address, port) → [tokens, last time, standing, allowed, refused in a row]: a list, not
        # an object, since this is looked at for every datagram of a flood
        self.senders: Bounded = Bounded()
        self.shared = TokenBucket(budget, 0.0)
        self.barred: dict[tuple, float] = {}     # sender → until when
        self.next_lift = float("inf")            # when the first bar ends
        self.bars = 0                            # bars made so far
        self.now = 0.0                           # the time of the last datagram admitted

    def allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self.allow)

    def admit(self, sender: tuple, now: float) -> str:
        """'read', or why not: 'denied', 'barred', 'flood' (over its own rate), 'budget' (bad
        standing, global budget spent)."""
        self.now = now
        s = self.senders.get(sender)
        if s is None:
            s = self.senders.touch(sender, lambda: [self.per_sender, now, 0, self.allowed(sender[0]), 0])
        else:
            self.senders.move_to_end(sender)
        if not s[3]:
            return "denied"
        if self.barred and sender in self.barred:    # until `lift` ends it
            return "barred"
        rate = self.per_sender
        tokens = min(rate, s[0] + (now - s[1]) * rate)
        s[1] = now
        if tokens < 1.0:
            s[0] = tokens
            return "flood"
        s[0] = tokens - 1.0
        if s[2] > GOOD_STANDING or self.shared.take(now):
            return "read"
        self._refused(sender, s)     # in bad standing and unread: as good as refused
        return "budget"

    def judged(self, sender: tuple, good: bool) -> bool:
        """How the sender's datagram (the one just admitted) turned out: valid, or refused. True
        when that refusal got the sender barred."""
        s = self.senders.get(sender)
        if s is None:
            return False
        if good:
            s[2], s[4] = min(STANDING_MAX, s[2] + 1), 0
            return False
        s[2] = max(STANDING_MIN, s[2] - 1)
        return self._refused(sender, s)

    def _refused(self, sender: tuple, s: list) -> bool:
        s[4] += 1
        if s[4] < BAR_AFTER or len(self.barred) >= MAX_BARRED:
            return False
        s[4] = 0
        self.barred[sender] = until = self.now + BAR_S
        self.bars += 1
        self.next_lift = min(self.next_lift, until)
        return True

    def lift(self, now: float) -> list[tuple]:
        """End the bars that are over; the senders whose bar ended."""
        if now < self.next_lift:
            return []
        over = [sender for sender, until in self.barred.items() if until <= now]
        for sender in over:
            del self.barred[sender]
            s = self.senders.get(sender)
            if s is not None:       # on probation: one more refusal in a row and it is barred again
                s[4] = BAR_AFTER - 1
        self.next_lift = min(self.barred.values(), default=float("inf"))
        return over

    def standing(self, sender: tuple) -> int:
        s = self.senders.get(sender)
        return 0 if s is None else s[2]
