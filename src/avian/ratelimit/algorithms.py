"""The four algorithms as plain functions over one key's state, for in-process backends.

Each function takes the key's state (a list it updates in place), the current time and
the rule, and returns the decision.  Nothing here awaits, so a backend that calls one
between reading and writing its state is atomic on one event loop without a lock.  The
Redis backend runs the same arithmetic in Lua (:mod:`avian.ratelimit.lua`); the tests hold
both to the same edge cases.

Every state list starts with ``[algorithm, expires_at, ...]``: ``expires_at`` is when the
state has become indistinguishable from a fresh one, so a backend may drop it then.
Refused requests are never counted: a client that keeps retrying while limited does not
push its own reset further away.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from math import floor
from typing import TYPE_CHECKING, Any

from .result import RateLimitResult

if TYPE_CHECKING:
    from .rule import Rule

__all__ = [
    "DECIDERS",
    "Decider",
    "fixed_window",
    "fresh_state",
    "sliding_log",
    "sliding_window",
    "token_bucket",
]

State = list[Any]
Decider = Callable[[State, float, "Rule"], RateLimitResult]

# PERF: allowed results are built straight from a tuple (the generated NamedTuple
# constructor costs twice as much), once per request.
_new = tuple.__new__
_Result = RateLimitResult

_EPSILON = 1e-9
"""Float slack when comparing token counts (0.1 s x 10 tokens/s must make one token)."""


def fresh_state(algorithm: str) -> State:
    """The state of a key never seen (or expired)."""
    if algorithm == "sliding_window":
        return [algorithm, 0.0, -2.0, 0, 0]  # window index, current count, previous count
    if algorithm == "sliding_log":
        return [algorithm, 0.0, deque()]  # accepted timestamps, oldest first
    if algorithm == "token_bucket":
        return [algorithm, 0.0, -1.0, 0.0]  # tokens (-1: full, never used), last refill
    return [algorithm, 0.0, float("-inf"), 0.0]  # fixed window: window start, count


def sliding_window(state: State, now: float, rule: Rule) -> RateLimitResult:
    """Counts per clock-aligned window; the previous window's count weighs in proportion
    to how much of it still overlaps the last ``window`` seconds."""
    window = rule.window
    index = now // window
    end = index * window + window
    if end <= now:  # float rounding put ``now`` at the end of the window before its own
        index += 1.0
        end += window
    if state[2] != index:
        state[4] = state[3] if state[2] == index - 1 else 0
        state[3] = 0
        state[2] = index
    limit = rule.limit
    current: int = state[3]
    previous: int = state[4]
    left = end - now
    if not previous:
        # PERF: no weighted part, so the count is exact in integers.
        if current < limit:
            state[3] = current + 1
            state[1] = end + window
            return _new(_Result, (True, limit - current - 1, limit, end, left, 0.0, False))
    else:
        used = previous * (left / window) + current
        if used + 1.0 <= limit:
            state[3] = current + 1
            state[1] = end + window  # the count still weighs in during the next window
            remaining = floor(limit - used - 1.0)  # PERF: floor() of a float beats int()
            return _new(_Result, (True, remaining, limit, end, left, 0.0, False))
    if current + 1 <= limit:
        # Wait until the previous window's weight has shrunk enough.
        free_at = end - (limit - 1 - current) * window / previous
    else:
        # This window is full: in the next one, this window becomes the weighted one.
        free_at = end + window - (limit - 1) * window / current
    retry = free_at - now
    return RateLimitResult(False, 0, limit, free_at, retry, retry)


def sliding_log(state: State, now: float, rule: Rule) -> RateLimitResult:
    """Exact: the timestamps of the accepted requests of the last ``window`` seconds."""
    limit = rule.limit
    window = rule.window
    log: deque[float] = state[2]
    cutoff = now - window
    while log and log[0] <= cutoff:
        log.popleft()
    count = len(log)
    if count < limit:
        log.append(now)
        state[1] = now + window
        free_at = log[0] + window
        return _new(_Result, (True, limit - count - 1, limit, free_at, free_at - now, 0.0, False))
    # The oldest entries must leave until one slot is free (more than one when the limit
    # was lowered since they were added).
    free_at = log[count - limit] + window
    retry = free_at - now
    return RateLimitResult(False, 0, limit, free_at, retry, retry)


def token_bucket(state: State, now: float, rule: Rule) -> RateLimitResult:
    """A bucket of ``limit`` tokens refilled at ``rate`` per second; a request takes one."""
    capacity = rule.limit
    rate = rule.rate
    tokens = state[2]
    if tokens < 0.0:
        tokens = float(capacity)
    else:
        elapsed = now - state[3]
        if elapsed > 0.0:
            tokens += elapsed * rate
        if tokens > capacity:
            tokens = float(capacity)
    state[3] = now
    if tokens >= 1.0 - _EPSILON:
        tokens = max(tokens - 1.0, 0.0)
        state[2] = tokens
        full_in = (capacity - tokens) / rate
        state[1] = now + full_in
        remaining = floor(tokens + _EPSILON)
        return _new(_Result, (True, remaining, capacity, now + full_in, full_in, 0.0, False))
    state[2] = tokens
    state[1] = now + (capacity - tokens) / rate
    retry = (1.0 - tokens) / rate
    return RateLimitResult(False, 0, capacity, now + retry, retry, retry)


def fixed_window(state: State, now: float, rule: Rule) -> RateLimitResult:
    """A counter per window: aligned to the clock (``strict``) or started by the key's
    first request after the previous window ended."""
    limit = rule.limit
    window = rule.window
    if rule.strict:
        start = (now // window) * window
        if start + window <= now:  # float rounding, as in sliding_window
            start += window
        if state[2] != start:
            state[2] = start
            state[3] = 0.0
    elif now >= state[2] + window:
        start = state[2] = now
        state[3] = 0.0
    else:
        start = state[2]
    end = start + window
    state[1] = end
    count = state[3]
    if count < limit:
        state[3] = count + 1.0
        remaining = floor(limit - count - 1.0)
        return _new(_Result, (True, remaining, limit, end, end - now, 0.0, False))
    retry = end - now
    return RateLimitResult(False, 0, limit, end, retry, retry)


DECIDERS: dict[str, Decider] = {
    "sliding_window": sliding_window,
    "sliding_log": sliding_log,
    "token_bucket": token_bucket,
    "fixed_window": fixed_window,
}
