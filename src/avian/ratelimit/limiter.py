"""The rate limiter: a middleware, and a ``check(key)``/``reset(key)`` API for code.

As middleware it finds the request's key, asks the backend for one decision, and either
lets the request through (adding the rate-limit headers to the response) or answers 429
(problem+json, ``Retry-After``).  Its storage failing never becomes a 500: ``fail_open``
lets requests through, ``fail_open=False`` answers 503.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from math import ceil
from typing import TYPE_CHECKING, Unpack

from ..durations import parse_duration
from ..errors import ConfigurationError, HTTPError
from .algorithms import Decider, State
from .backend import RateLimitBackend, RateLimitUnavailable
from .headers import RESET_SLACK, SMALL_COUNTS, HeaderWriter, retry_after_seconds
from .keys import UNKNOWN_CLIENT, by_ip, shorten
from .memory import MemoryRateLimitBackend
from .options import MAX_SLIDING_LOG_REQUESTS, RateLimitOptions, settings_from
from .result import RateLimitResult
from .rule import Rule

if TYPE_CHECKING:
    from ..app import App
    from ..context import Context
    from ..http.response import Response
    from ..pipeline import ErrorConverter, Runner
    from ..routing.router import CallNext, Router

__all__ = ["RateLimiter"]

_HotParts = tuple[
    MemoryRateLimitBackend,
    dict[str, State],
    Rule,
    str,
    Decider,
    Callable[[str, Rule, float], State],
]

_UNAVAILABLE_RETRY = 5.0
"""Seconds a client is told to wait when ``fail_open=False`` and storage is down."""
_WARN_EVERY = 10.0
"""At most one storage-failure warning per limiter in this many seconds."""
_MAX_TIER_RULES = 256
_MAX_KEY_LENGTH = 200
_TAGS = {"sliding_window": "sw", "sliding_log": "sl", "token_bucket": "tb", "fixed_window": "fw"}


class RateLimiter:
    """Limits requests per key; see :class:`~avian.ratelimit.options.RateLimitOptions` for
    every option.

    Use it as middleware (``app.use(RateLimiter(max_requests=100, window="1m"))``,
    ``middleware=[RateLimiter(...)]``), or call :meth:`check` and :meth:`reset` from code.
    ``app.rate_limit(...)``, ``group.rate_limit(...)`` and ``@rate_limit(...)`` build one
    and attach it for you.
    """

    def __init__(self, **options: Unpack[RateLimitOptions]) -> None:
        settings = self.settings = settings_from(dict(options))
        self.rule: Rule = settings.rule
        self.fail_open = settings.fail_open
        self._key = settings.key
        self._skip = settings.skip
        self._tiered = settings.tiered
        self._on_limited = settings.on_limited
        self._headers = HeaderWriter(
            settings.header_format, settings.name or "default", self.rule.policy_window
        )
        self._tier_rules: dict[int, Rule] = {}
        self._backend: RateLimitBackend | None = None
        self._memory: MemoryRateLimitBackend | None = None
        self._prefix: str | None = None
        self._router: Router | None = None
        self._scope: str | None = None
        self._next_warning = 0.0
        self._hot = False
        """PERF: private memory backend, key = socket peer, no skip, no tiers: the runner
        of :meth:`__avian_wrap__` decides inline."""

    # --- where the limiter lives ---------------------------------------------------------

    def attach(self, router: Router) -> None:
        """Remember the router this limiter guards (its storage keys carry the router's
        prefix, so a group's quota is not the app's); binds to the app when reachable."""
        self._router = router
        app = _root_app(router)
        if app is not None:
            self.bind(app)

    def name_scope(self, scope: str) -> None:
        """Storage keys carry ``scope`` (the ``@rate_limit`` decorator passes the handler's
        qualified name) unless the limiter has a ``name``."""
        if self._scope is None:
            self._scope = scope

    def bind(self, app: App | None) -> RateLimitBackend:
        """Choose the backend (the app's ``redis_url`` decides the default); done once."""
        backend = self._backend
        if backend is None:
            from .selection import select_backend

            backend = self._backend = select_backend(self.settings, app)
            memory = backend if isinstance(backend, MemoryRateLimitBackend) else None
            self._memory = memory
            # A memory backend made for this limiter alone needs no key prefix.
            private = memory is not None and memory is not self.settings.store
            if private:
                self._prefix = ""
            self._hot = (
                private
                and self._key is by_ip
                and app is not None
                and app.proxy is None  # no trusted proxy: the client is the socket peer
                and self._skip is None
                and self._tiered is None
            )
        return backend

    @property
    def backend(self) -> RateLimitBackend:
        """The backend in use (chosen on first use if the limiter was not bound yet)."""
        return self._backend or self.bind(_root_app(self._router))

    @property
    def key_prefix(self) -> str:
        """What goes before the keys of this limiter in a shared backend (Redis, a store):
        ``key_prefix``, then ``name:``, or the scope (the group's path, the handler's
        name) and a tag of the algorithm and window, so two limiters sharing one Redis
        never count into each other's keys and every worker computes the same keys."""
        return self._prefix_for(self.rule)

    def _prefix_for(self, rule: Rule) -> str:
        name = self.settings.name
        if name is not None:
            part = name if rule.window == self.rule.window else f"{name}@{rule.window:g}"
            return f"{self.settings.key_prefix}{part}:"
        scope = self._scope
        router = self._router
        if scope is None and router is not None and _root_app(router) is not router:
            scope = router.full_prefix or router.name or "group"
        tag = f"{_TAGS[rule.algorithm]}{rule.window:g}"
        return f"{self.settings.key_prefix}{scope + ':' if scope else ''}{tag}:"

    def _storage_key(self, key: str, rule: Rule) -> str:
        """The backend key for a caller's ``key`` under ``rule``."""
        if len(key) > _MAX_KEY_LENGTH:
            key = shorten(key)
        self.backend  # noqa: B018 - binding decides whether keys need a prefix
        if rule.window != self.rule.window:
            return self._prefix_for(rule) + key
        prefix = self._prefix
        if prefix is None:
            prefix = self._prefix_for(rule)
            router = self._router
            if router is None or _root_app(router) is not None:
                self._prefix = prefix  # a group's path is final once it is in an app
        return prefix + key

    # --- the programmatic API ------------------------------------------------------------

    async def check(
        self, key: str, *, limit: int | None = None, window: str | float | None = None
    ) -> RateLimitResult:
        """Count one request for ``key`` and return the decision (DonkeyLabs' ``check``).

        ``key`` is the same value the middleware's key function returns (an address, a
        user id), so a handler can consume the quota a route also checks.  ``limit`` and
        ``window`` override the limiter's for this call (``limit=0`` always refuses).
        """
        if not isinstance(key, str):
            raise TypeError(f"rate limit keys are strings, got {key!r}")
        rule = self.rule
        if limit is not None or window is not None:
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
            ):
                raise ValueError(f"limit must be an int >= 0, got {limit!r}")
            seconds = None if window is None else parse_duration(window)
            if seconds is not None and seconds <= 0:
                raise ValueError(f"window must be positive, got {window!r}")
            rule = rule.replace(limit=limit, window=seconds)
        return await self._decide(self._storage_key(key, rule), rule)

    async def reset(self, key: str) -> None:
        """Forget ``key``'s counters: its next request starts with a full quota."""
        if not isinstance(key, str):
            raise TypeError(f"rate limit keys are strings, got {key!r}")
        try:
            await self.backend.reset(self._storage_key(key, self.rule))
        except RateLimitUnavailable:
            self._warn_unavailable()
            if not self.fail_open:
                raise

    async def _decide(self, storage_key: str, rule: Rule) -> RateLimitResult:
        if rule.limit <= 0:
            window = rule.window
            return RateLimitResult(False, 0, 0, time.time() + window, window, window)
        memory = self._memory
        if memory is not None:
            return memory.decide(storage_key, rule)
        backend = self.backend
        try:
            return await backend.hit(storage_key, rule)
        except RateLimitUnavailable:
            self._warn_unavailable()
            now = time.time()
            if self.fail_open:
                return RateLimitResult(True, rule.limit, rule.limit, now, 0.0, degraded=True)
            retry = _UNAVAILABLE_RETRY
            return RateLimitResult(False, 0, rule.limit, now + retry, retry, retry, degraded=True)

    def _warn_unavailable(self) -> None:
        now = time.monotonic()
        if now >= self._next_warning:
            self._next_warning = now + _WARN_EVERY
            import logging  # PERF: loaded on the first failure, not with the limiter

            policy = "letting requests through" if self.fail_open else "answering 503"
            logging.getLogger("avian.ratelimit").warning(
                "rate limit storage unavailable; %s", policy, exc_info=True
            )

    # --- the middleware ------------------------------------------------------------------

    def __avian_wrap__(self, inner: Runner, on_error: ErrorConverter) -> Runner:
        """The limiter's own runner around ``inner`` (the pipeline's wrapping protocol, see
        :mod:`avian.pipeline`): what :meth:`__call__` does as generic middleware, in one
        coroutine frame per request instead of three and a ``call_next`` closure."""
        write_headers = self._headers.write
        hot = self._hot_parts()
        triple = self._headers.single
        if triple is not None:
            # PERF: the one-triple formats are written inline, from this runner's caches
            # (the pairs HeaderTriple.write makes; the tests compare both paths).
            limit_name = triple.limit_name
            remaining_name = triple.remaining_name
            reset_index = triple.reset_index
            small = triple.small
        limit_value = reset_value = -1
        limit_pair = reset_pair = (b"", b"")

        async def run_limited(ctx: Context) -> Response:
            nonlocal hot, limit_value, limit_pair, reset_value, reset_pair
            result: RateLimitResult
            if hot is not None:
                # PERF: the default setup (private memory backend, key = socket peer) is
                # decided inline: the backend's decide() without the calls around it.
                memory, states, rule, algorithm, decide, new_state = hot
                client = ctx.scope.get("client")
                key = client[0] if client else UNKNOWN_CLIENT
                now = memory.clock()  # read each time: tests may replace the clock
                state = states.get(key)
                if state is None or state[0] is not algorithm:
                    state = new_state(key, rule, now)
                result = decide(state, now, rule)
                if not result[0]:
                    response = ctx._response = await self._refuse(ctx, result)
                    return response
            else:
                found = await self._general(ctx)
                if self._hot:
                    hot = self._hot_parts()  # bound by this request: the next one is hot
                if found is None or (found.degraded and found.allowed):
                    return await _run_inner(ctx, inner, on_error)
                if not found.allowed:
                    response = ctx._response = await self._refuse(ctx, found)
                    return response
                result = found
            # With several limiters on a route, the one with the least left speaks.
            attrs = ctx.__dict__
            outer: RateLimitResult | None = attrs.get("rate_limit")
            if outer is None or result[1] < outer[1]:  # PERF: remaining, by index
                attrs["rate_limit"] = result
            pending = ctx._response
            if ctx.dispatched and pending is not None:
                response = pending  # answered already (ctx.fire in an outer middleware)
            else:
                try:
                    response = await inner(ctx)
                except Exception as exc:
                    response = await on_error(ctx, exc)
            if attrs.get("rate_limit") is result:
                if triple is None:
                    write_headers(response.raw_headers, result)
                else:
                    limit = result[2]
                    if limit != limit_value:
                        limit_pair = (limit_name, b"%d" % limit)
                        limit_value = limit
                    remaining = result[1]
                    reset = ceil(result[reset_index] - RESET_SLACK)
                    if reset != reset_value:
                        reset_pair = triple.reset_pair(reset)
                        reset_value = reset
                    response.raw_headers += (
                        limit_pair,
                        small[remaining]
                        if remaining < SMALL_COUNTS
                        else (remaining_name, b"%d" % remaining),
                        reset_pair,
                    )
            ctx._response = response
            return response

        return run_limited

    def _hot_parts(self) -> _HotParts | None:
        """What the inline decision needs, once the limiter is bound to a private memory
        backend and keys requests by socket peer; ``None`` otherwise."""
        memory = self._memory
        if not self._hot or memory is None:
            return None
        rule = self.rule
        return (memory, memory._states, rule, rule.algorithm, rule.decide, memory._new_state)

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        """The limiter as generic middleware (inside ``when(...)``, or called by hand).  In
        an app's pipeline the runner of :meth:`__avian_wrap__` does the same, faster."""
        found = await self._general(ctx)
        if found is None:
            return await call_next()
        result: RateLimitResult = found
        if not result.allowed:
            return await self._refuse(ctx, result)
        if result.degraded:
            return await call_next()
        # With several limiters on a route, the one with the least left speaks.
        attrs = ctx.__dict__
        outer: RateLimitResult | None = attrs.get("rate_limit")
        if outer is None or result.remaining < outer.remaining:
            attrs["rate_limit"] = result
        response = await call_next()
        if attrs.get("rate_limit") is result:
            self._headers.write(response.raw_headers, result)
        return response

    async def _general(self, ctx: Context) -> RateLimitResult | None:
        """The decision for any setup; ``None`` when this request is not limited."""
        skip = self._skip
        if skip is not None:
            skipped = skip(ctx)
            if inspect.isawaitable(skipped):
                skipped = await skipped
            if skipped:
                return None
        key = self._key(ctx)
        if inspect.isawaitable(key):
            key = await key
        if key is None:
            return None
        if not isinstance(key, str):
            raise TypeError(f"rate limit key function must return str or None, got {key!r}")
        rule = self.rule
        if self._tiered is not None:
            tier = await self._tier_rule(ctx, key)
            if tier is None:
                return None
            rule = tier
        if self._backend is None:
            self.bind(ctx.app)
        return await self._decide(self._storage_key(key, rule), rule)

    async def _tier_rule(self, ctx: Context, key: str) -> Rule | None:
        assert self._tiered is not None
        quota = self._tiered(ctx, key)
        if inspect.isawaitable(quota):
            quota = await quota
        if quota is None:
            return None
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
            raise ConfigurationError(
                f"rate_limit: limit({key!r}) must return an int >= 0 or None, got {quota!r}"
            )
        if quota == self.rule.limit:
            return self.rule
        rules = self._tier_rules
        rule = rules.get(quota)
        if rule is None:
            if self.rule.algorithm == "sliding_log" and quota > MAX_SLIDING_LOG_REQUESTS:
                raise ConfigurationError(
                    f"rate_limit: the sliding log allows at most {MAX_SLIDING_LOG_REQUESTS} "
                    f"requests per window, limit() returned {quota}"
                )
            if len(rules) >= _MAX_TIER_RULES:
                rules.clear()
            rule = rules[quota] = self.rule.replace(limit=quota)
        return rule

    async def _refuse(self, ctx: Context, result: RateLimitResult) -> Response:
        retry = retry_after_seconds(result)
        if result.degraded:
            raise HTTPError(
                503,
                "Rate limiting is temporarily unavailable; retry shortly.",
                code="RATE_LIMIT_UNAVAILABLE",
                headers={"Retry-After": str(retry)},
            )
        ctx.__dict__["rate_limit"] = result
        headers = self._headers.as_dict(result)
        headers["Retry-After"] = str(retry)
        on_limited = self._on_limited
        if on_limited is not None:
            answer = on_limited(ctx, result)
            if inspect.isawaitable(answer):
                answer = await answer
            if answer is not None:
                from ..pipeline import finalize

                response = finalize(ctx, answer, 429)
                have = {name for name, _ in response.raw_headers}
                for name, value in headers.items():
                    raw = name.lower().encode("latin-1")
                    if raw not in have:
                        response.raw_headers.append((raw, value.encode("latin-1")))
                return response
        raise HTTPError(
            429,
            f"Too many requests: retry in {retry} s.",
            code="RATE_LIMITED",
            details={"limit": result.limit, "retry_after": retry},
            headers=headers,
        )

    def __repr__(self) -> str:
        rule = self.rule
        return f"<RateLimiter {rule.algorithm} {rule.limit}/{rule.window:g}s>"


async def _run_inner(ctx: Context, inner: Runner, on_error: ErrorConverter) -> Response:
    """What ``await call_next()`` does for generic middleware (see :mod:`avian.pipeline`)."""
    pending = ctx._response
    if ctx.dispatched and pending is not None:
        return pending
    try:
        response = await inner(ctx)
    except Exception as exc:
        response = await on_error(ctx, exc)
    ctx._response = response
    return response


def _root_app(router: Router | None) -> App | None:
    """The app at the root of ``router``'s tree, if it is attached to one yet."""
    from ..app import App

    node = router
    while node is not None and node._parent is not None:
        node = node._parent
    return node if isinstance(node, App) else None
