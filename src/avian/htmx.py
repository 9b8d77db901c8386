"""htmx request headers and response headers (used with the ``html`` handler kind).

Reading: :func:`details` (``HX-Request``, ``HX-Boosted``, ``HX-Target``...) and
:func:`wants_partial`.  Writing: functions that set ``HX-*`` headers on ``ctx.response``,
which are merged into whatever the handler returns, so they combine with a returned
fragment::

    @app.post("/todos")
    @html
    async def add_todo(ctx: Context, body: NewTodo) -> str:
        htmx.trigger(ctx, "todo-added", {"title": body.title})
        return f"<li>{escape(body.title)}</li>"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from .http.jsoncodec import encode_json
from .http.response import Response

if TYPE_CHECKING:
    from .context import Context

__all__ = [
    "STOP_POLLING",
    "HtmxDetails",
    "details",
    "is_htmx",
    "location",
    "push_url",
    "redirect",
    "refresh",
    "replace_url",
    "reselect",
    "reswap",
    "retarget",
    "stop_polling",
    "trigger",
    "wants_partial",
]

STOP_POLLING = 286
"""The status that tells htmx to stop polling (``hx-trigger="every 2s"``)."""


@dataclass(frozen=True)
class HtmxDetails:
    """What an htmx request says about itself (all ``False``/``None`` for other requests)."""

    request: bool
    """``HX-Request: true``: htmx sent it."""
    boosted: bool
    """``HX-Boosted``: a boosted link or form (expects a full page)."""
    history_restore: bool
    """``HX-History-Restore-Request``: history cache miss (expects a full page)."""
    current_url: str | None
    prompt: str | None
    target: str | None
    """The id of the target element, if it has one."""
    trigger: str | None
    """The id of the triggering element, if it has one."""
    trigger_name: str | None

    @property
    def partial(self) -> bool:
        """True when a fragment is the right answer (not boosted, not a history restore)."""
        return self.request and not self.boosted and not self.history_restore


_DETAILS_KEY = "_htmx_details"


def details(ctx: Context) -> HtmxDetails:
    """The htmx headers of this request (parsed once per request)."""
    found: HtmxDetails | None = ctx.__dict__.get(_DETAILS_KEY)
    if found is None:
        h = ctx.request.headers
        found = HtmxDetails(
            request=h.get("hx-request") == "true",
            boosted=h.get("hx-boosted") == "true",
            history_restore=h.get("hx-history-restore-request") == "true",
            current_url=h.get("hx-current-url"),
            prompt=h.get("hx-prompt"),
            target=h.get("hx-target"),
            trigger=h.get("hx-trigger"),
            trigger_name=h.get("hx-trigger-name"),
        )
        ctx.__dict__[_DETAILS_KEY] = found
    return found


def is_htmx(ctx: Context) -> bool:
    """True when htmx sent the request (``HX-Request: true``)."""
    return details(ctx).request


def wants_partial(ctx: Context) -> bool:
    """True when the request should get a fragment rather than a full page."""
    return details(ctx).partial


# --- response headers --------------------------------------------------------------------


def redirect(ctx: Context, url: str) -> None:
    """``HX-Redirect``: htmx does a full client-side redirect to ``url``."""
    ctx.response.headers.set("hx-redirect", url)


def location(ctx: Context, url: str, **options: Any) -> None:
    """``HX-Location``: an htmx (ajax) navigation to ``url``; ``options`` are htmx's
    (``target``, ``swap``, ``select``, ``values``, ``headers``...)."""
    value = encode_json({"path": url, **options}).decode() if options else url
    ctx.response.headers.set("hx-location", value)


def refresh(ctx: Context) -> None:
    """``HX-Refresh: true``: htmx reloads the whole page."""
    ctx.response.headers.set("hx-refresh", "true")


def push_url(ctx: Context, url: str | Literal[False]) -> None:
    """``HX-Push-Url``: push ``url`` into the browser history (``False``: don't push)."""
    ctx.response.headers.set("hx-push-url", "false" if url is False else url)


def replace_url(ctx: Context, url: str | Literal[False]) -> None:
    """``HX-Replace-Url``: replace the current URL (``False``: don't)."""
    ctx.response.headers.set("hx-replace-url", "false" if url is False else url)


def reswap(ctx: Context, swap: str) -> None:
    """``HX-Reswap``: override the swap strategy (``"outerHTML"``, ``"beforeend"``...)."""
    ctx.response.headers.set("hx-reswap", swap)


def retarget(ctx: Context, selector: str) -> None:
    """``HX-Retarget``: swap into the element matching ``selector`` instead."""
    ctx.response.headers.set("hx-retarget", selector)


def reselect(ctx: Context, selector: str) -> None:
    """``HX-Reselect``: swap only the part of the response matching ``selector``."""
    ctx.response.headers.set("hx-reselect", selector)


_TRIGGER_HEADERS = {
    "receive": "hx-trigger",
    "settle": "hx-trigger-after-settle",
    "swap": "hx-trigger-after-swap",
}


def trigger(
    ctx: Context,
    event: str,
    detail: Any = None,
    *,
    after: Literal["receive", "settle", "swap"] = "receive",
) -> None:
    """Trigger a client-side event (``HX-Trigger``, or ``HX-Trigger-After-Settle`` /
    ``-After-Swap`` with ``after=``).  Several calls add several events; ``detail`` must
    be JSON-encodable."""
    header = _TRIGGER_HEADERS.get(after)
    if header is None:
        raise ValueError(f"after must be one of {', '.join(_TRIGGER_HEADERS)}, got {after!r}")
    if not event or any(c in event for c in ',"\r\n'):
        raise ValueError(f"invalid htmx event name {event!r}")
    headers = ctx.response.headers
    events: dict[str, Any] = {}
    current = headers.get(header)
    if current:
        if current.startswith("{"):
            decoded = msgspec.json.decode(current)
            events = decoded if isinstance(decoded, dict) else {}
        else:
            events = {name.strip(): None for name in current.split(",")}
    events[event] = detail
    if all(value is None for value in events.values()):
        headers.set(header, ", ".join(events))
    else:
        headers.set(header, encode_json(events).decode())


def stop_polling(body: str = "") -> Response:
    """A response with status 286, which makes htmx stop polling."""
    return Response(body, STOP_POLLING, media_type="text/html")
