"""What templates call at render time: the helpers behind translated expressions, ``raw()``,
and the request-bound globals (``generate_nonce()``, ``csrf_token()``, ``csrf_field()``,
``get_flashed_messages()``, ``request``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jinja2 import Undefined, pass_context
from jinja2.runtime import Context as JinjaContext
from markupsafe import Markup

if TYPE_CHECKING:
    from ..context import Context

__all__ = [
    "REQUEST_GLOBALS",
    "RequestGlobals",
    "finalize",
    "harpia_globals",
    "raw",
    "request_defaults",
]

REQUEST_GLOBALS = ("generate_nonce", "csrf_token", "csrf_field", "get_flashed_messages", "request")
"""Names every template can use; bound to the request by ``ctx.render()``."""

Flash = tuple[str, str]


def _text(value: Any) -> str:
    """How a value reads when joined into text: like the output of ``{{ value }}``."""
    if value is None or isinstance(value, Undefined):
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def finalize(value: Any) -> Any:
    """``{{ null }}`` prints nothing and booleans print as ``true``/``false``, as in the
    JavaScript-flavoured expressions."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def raw(value: Any) -> Markup:
    """``raw(x)``: output ``x`` without escaping.  The only way to do so in a template."""
    if isinstance(value, Markup):
        return value
    return Markup(_text(value))


def _value(value: Any) -> Any:
    """Identity: wraps constant outputs so that Jinja2 does not fold them (see syntax.py)."""
    return value


def _add(left: Any, right: Any) -> Any:
    """JavaScript's ``+``: joins as text as soon as one side is text, adds otherwise.
    ``Markup`` stays safe: joining it with plain text escapes the plain text."""
    left_text = isinstance(left, str)
    right_text = isinstance(right, str)
    if left_text and right_text:
        return left + right
    if left_text:
        return left + _text(right)
    if right_text:
        return _text(left) + right
    return left + right


def _coalesce(value: Any, fallback: Any) -> Any:
    """``a ?? b``: ``b`` when ``a`` is null or undefined."""
    if value is None or isinstance(value, Undefined):
        return fallback
    return value


def _length(value: Any) -> Any:
    """``x.length``: the value's own ``length`` if it has one, else ``len(x)``."""
    if isinstance(value, Undefined) or value is None:
        return 0
    if isinstance(value, Mapping) and "length" in value:
        return value["length"]
    own = getattr(value, "length", None)
    if own is not None and not callable(own):
        return own
    return len(value)


def _pairs(value: Any) -> Iterable[Any]:
    """``@for [key, value] in x``: a mapping's items; any other iterable as it is."""
    if value is None or isinstance(value, Undefined):
        return ()
    if isinstance(value, Mapping):
        return value.items()
    items = getattr(value, "items", None)
    if callable(items):
        result: Iterable[Any] = items()
        return result
    return value  # type: ignore[no-any-return]


@pass_context
def _component(context: JinjaContext, name: str, props: dict[str, Any]) -> Markup:
    """``@component``: render a component with only its props and the request globals, so
    the caller's variables do not leak into it."""
    template = context.environment.get_template(name)
    variables = {key: context[key] for key in REQUEST_GLOBALS if key in context}
    variables.update(props)
    return Markup(template.render(variables))


def harpia_globals() -> dict[str, Any]:
    """The globals of the Harpia engine's Jinja2 environment."""
    return {
        "raw": raw,
        "__avian_value": _value,
        "__avian_add": _add,
        "__avian_coalesce": _coalesce,
        "__avian_length": _length,
        "__avian_pairs": _pairs,
        "__avian_component": _component,
        **request_defaults(),
    }


def _no_nonce() -> str:
    return ""


def _no_token() -> str:
    return ""


def _no_field() -> Markup:
    return Markup("")


def _no_messages(
    with_categories: bool = False, category_filter: Iterable[str] | str = ()
) -> list[Any]:
    return []


def request_defaults() -> dict[str, Any]:
    """The request globals outside a request (``generate()``, no ``ctx``): all empty."""
    return {
        "generate_nonce": _no_nonce,
        "csrf_token": _no_token,
        "csrf_field": _no_field,
        "get_flashed_messages": _no_messages,
        "request": None,
    }


class RequestGlobals:
    """The request globals bound to one request.

    ``flashes`` are fetched before rendering (the template functions are synchronous):
    ``ctx.state.flashes`` when something put them there, otherwise from the session through
    :func:`avian.flash.get_flashed_messages` -- only for templates that use them.
    """

    __slots__ = ("ctx", "flashes")

    def __init__(self, ctx: Context, flashes: list[Any]) -> None:
        self.ctx = ctx
        self.flashes = flashes

    def variables(self) -> dict[str, Any]:
        return {
            "generate_nonce": self.generate_nonce,
            "csrf_token": self.csrf_token,
            "csrf_field": self.csrf_field,
            "get_flashed_messages": self.get_flashed_messages,
            "request": self.ctx.request,
        }

    def generate_nonce(self) -> str:
        """This request's CSP nonce (``ctx.state.csp_nonce``, set by the security-headers
        middleware with ``use_nonce=True``); "" without it."""
        nonce = self.ctx.state.get("csp_nonce")
        return nonce if isinstance(nonce, str) else ""

    def csrf_token(self) -> str:
        """This request's CSRF token (``ctx.state.csrf_token``); "" without one."""
        token = self.ctx.state.get("csrf_token")
        return token if isinstance(token, str) else ""

    def csrf_field(self) -> Markup:
        """``<input type="hidden" name="_csrf" value="...">`` with the token escaped; empty
        without a token.  The field name follows the CSRF middleware's ``field_name``."""
        try:
            from ..csrf import csrf_field
        except ImportError:  # pragma: no cover - the module ships with avian
            token = self.csrf_token()
            if not token:
                return Markup("")
            return Markup('<input type="hidden" name="_csrf" value="{}">').format(token)
        return csrf_field(self.ctx)

    def get_flashed_messages(
        self, with_categories: bool = False, category_filter: Iterable[str] | str = ()
    ) -> list[Any]:
        """The flashed messages, like Flask's: messages, or ``(category, message)`` pairs
        with ``with_categories=True``; ``category_filter`` keeps some categories."""
        items = self.flashes
        if category_filter:
            wanted = {category_filter} if isinstance(category_filter, str) else set(category_filter)
            items = [item for item in items if _is_pair(item) and item[0] in wanted]
        if with_categories:
            return [item if _is_pair(item) else ("message", item) for item in items]
        return [item[1] if _is_pair(item) else item for item in items]


def _is_pair(item: Any) -> bool:
    return isinstance(item, (tuple, list)) and len(item) == 2


async def load_flashes(ctx: Context) -> list[Any]:
    """The messages for ``get_flashed_messages()``: ``ctx.state.flashes`` if set, else the
    session's (consumed, as :func:`avian.flash.get_flashed_messages` does)."""
    state = ctx.state
    if "flashes" in state:
        flashes = state["flashes"]
        return list(flashes) if isinstance(flashes, (list, tuple)) else []
    try:
        from ..flash import get_flashed_messages
    except ImportError:
        return []
    return list(await get_flashed_messages(ctx, with_categories=True))
