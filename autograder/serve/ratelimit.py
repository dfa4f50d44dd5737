"""Token buckets against floods of requests.

A bucket holds up to ``capacity`` tokens and gains ``rate`` per second; a request takes one, and
is refused when none is left, with the seconds until one is back. The buckets live in memory (a
restart forgives everyone), keyed by whoever asks: the signed-in student, else the address.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Buckets:
    """One token bucket per key."""

    def __init__(self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if capacity < 1 or rate <= 0:
            raise ValueError(f"rate limit: expected a capacity of at least 1 and a positive rate, "
                             f"got {capacity} and {rate}.")
        self.capacity = capacity
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0 when one was there, else the seconds until one is.

        >>> t = [0.0]
        >>> buckets = Buckets(2, 1.0, clock=lambda: t[0])
        >>> [buckets.take("ann") for _ in range(3)]
        [0.0, 0.0, 1.0]
        >>> t[0] = 1.0; buckets.take("ann"), buckets.take("bob")
        (0.0, 0.0)
        """
        moment = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, moment))
            tokens = min(self.capacity, tokens + (moment - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, moment)
                self._forget_full(moment)
                return 0.0
            self._buckets[key] = (tokens, moment)
            return (1 - tokens) / self.rate

    def wait(self, key: str) -> float:
        """The seconds until ``key`` has a token, without taking one (0: it has one now)."""
        moment = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, moment))
        tokens = min(self.capacity, tokens + (moment - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _forget_full(self, moment: float) -> None:
        """Drop the buckets that have refilled, when there are too many keys."""
        if len(self._buckets) <= self.max_keys:
            return
        self._buckets = {key: (tokens, last) for key, (tokens, last) in self._buckets.items()
                         if tokens + (moment - last) * self.rate < self.capacity}


class Failures:
    """Failed sign-ins (a personal link, the sign-in form, the API's bearer token), counted per
    address and per token, so that guessing is slowed down without locking anyone out: only
    failures are counted, and a valid token is taken whatever the count. (A token holds 256
    random bits: the count is against floods and scanners, not what keeps a token secret.)

    >>> t = [0.0]
    >>> failures = Failures(2, 2, clock=lambda: t[0])
    >>> [failures.failed("10.0.0.1", "key.secret") for _ in range(3)]
    [0.0, 0.0, 30.0]
    >>> failures.failed("10.0.0.2", "key.other")  # another address, the same token's key
    30.0
    """

    def __init__(self, capacity: float = 10, per_minute: float = 10,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.buckets = Buckets(capacity, per_minute / 60, clock)

    def failed(self, address: str, token: str | None) -> float:
        """Count a failed sign-in from ``address`` with ``token``; return 0 when it may be
        answered as a wrong token (401), else the seconds to wait (429)."""
        key = (token or "").strip().partition(".")[0][:64]
        waits = [self.buckets.take("address:" + address)]
        if key:
            waits.append(self.buckets.take("key:" + key))
        return max(waits)
