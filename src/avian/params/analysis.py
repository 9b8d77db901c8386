"""Handler signature analysis, done once per route at startup.

A handler may take ``ctx``, path parameters by name (converted by the route), query
parameters, headers, cookies, one body (a model, or any type marked ``Body()``), form fields
and files, and dependencies (``Depends(provider)``); see :mod:`.markers` for the markers and
:mod:`.solver` for how the inputs are gathered.  The result is a :class:`HandlerPlan`;
nothing is inspected per request.

The common shapes (no parameters, ``ctx``, path parameters, ``ctx`` + path parameters, one
body) are recognised and called directly, without building a keyword dict per request.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .annotations import split_annotated, strip_optional
from .signatures import is_async_callable, read_signature, return_annotation

if TYPE_CHECKING:
    from ..context import Context
    from .body import BodyReader
    from .solver import Argument, Finish, InputCompiler, Solver
    from .spec import BodySpec, ParamSpec, ResponseSpec

__all__ = ["HandlerPlan", "analyse_handler", "is_async_callable", "path_converter_hint"]

Handler = Callable[..., Any]
_UNSET: Any = object()


class HandlerPlan:
    """How to call one handler: which arguments come from where, and whether it is async."""

    __slots__ = (
        "body",
        "body_reader",
        "call",
        "dependencies",
        "exact_response",
        "handler",
        "is_async",
        "kind",
        "params",
        "response",
        "shape",
        "solve",
    )

    def __init__(
        self,
        handler: Handler,
        call: Callable[[Any], Awaitable[Any]],
        kind: str,
        is_async: bool,
        body_reader: BodyReader | None = None,
    ) -> None:
        self.handler = handler
        self.call = call
        """``async (ctx) -> value``: always correct, whatever the handler's shape (generator
        dependencies are closed before it returns)."""
        self.kind = kind
        """``none``, ``ctx``, ``path``, ``ctx+path``, ``body`` (direct call shapes) or
        ``general``."""
        self.is_async = is_async
        self.body_reader = body_reader
        self.solve: Solver = _solver_from_call(call)
        """``async (ctx, finish) -> finish(ctx, value)``: the response is produced by
        ``finish`` before generator dependencies are closed."""
        self.shape: Callable[[Any], Any] | None = None
        """Converts a returned value into the response model (``None``: nothing to do)."""
        self.exact_response: type | None = None
        """Values of exactly this type skip :attr:`shape`."""
        self.params: tuple[ParamSpec, ...] = ()
        """Every path/query/header/cookie input, dependencies' included (for OpenAPI)."""
        self.dependencies: tuple[Callable[..., Any], ...] = ()
        """Every provider the route uses (app, groups, route and parameters, sub-dependencies
        included; as declared, before overrides), in first-use order: lets tools find
        security schemes used as dependencies."""
        self.body: BodySpec | None = None
        self.response: ResponseSpec | None = None


def _solver_from_call(call: Callable[[Any], Awaitable[Any]]) -> Solver:
    async def solve(ctx: Context, finish: Finish) -> Any:
        return finish(ctx, await call(ctx))

    return solve


def _keep(ctx: Context, value: Any) -> Any:
    return value


_CONVERTER_HINTS: dict[Any, str] = {int: "int", float: "float", uuid.UUID: "uuid", str: "str"}
_CONVERTER_TYPES: dict[str, Any] = {name: hint for hint, name in _CONVERTER_HINTS.items()}


def path_converter_hint(handler: Handler, name: str) -> str | None:
    """The converter a handler's annotation asks for (``id: int`` -> ``"int"``), if any;
    ``Path(alias=...)`` parameters are matched by their alias."""
    from .markers import ParamInfo

    try:
        signature, hints = read_signature(handler, "handler")
    except ConfigurationError:
        return None
    for param in signature.parameters.values():
        hint = hints.get(param.name, param.annotation)
        base, extras = split_annotated(hint)
        markers = [e for e in (*extras, param.default) if isinstance(e, ParamInfo)]
        alias = markers[0].alias if markers and markers[0].alias else param.name
        if alias != name:
            continue
        return _CONVERTER_HINTS.get(strip_optional(split_annotated(base)[0])[0])
    return None


def _run_sync(handler: Handler) -> Callable[..., Awaitable[Any]]:
    async def in_thread(*args: Any, **kwargs: Any) -> Any:
        import asyncio  # PERF: not needed by `import avian`

        return await asyncio.to_thread(functools.partial(handler, *args, **kwargs))

    return in_thread


def _override_key(overrides: Mapping[Any, Any]) -> tuple[tuple[int, int], ...]:
    return tuple((id(k), id(v)) for k, v in overrides.items())


def _follow_overrides(
    build: Callable[[Mapping[Any, Any]], Solver],
    overrides: Mapping[Any, Any],
    compiled: Solver,
) -> Solver:
    """A solver that notices ``app.dependency_overrides`` changing after startup (tests set
    and clear them around requests) and recompiles for each new set, once."""
    compiled_key = _override_key(overrides)
    # The override objects are kept alive with their solver, so ids cannot be reused.
    built: dict[tuple[tuple[int, int], ...], tuple[Solver, list[Any]]] = {
        compiled_key: (compiled, list(overrides.items()))
    }

    async def solve_following_overrides(ctx: Context, finish: Finish) -> Any:
        if overrides or compiled_key:
            key = _override_key(overrides)
            entry = built.get(key)
            if entry is None:
                if len(built) > 64:
                    built.clear()
                entry = built[key] = (build(dict(overrides)), list(overrides.items()))
            return await entry[0](ctx, finish)
        return await compiled(ctx, finish)

    return solve_following_overrides


def _direct_call(
    compiler: InputCompiler,
    arguments: list[Argument],
    invoke: Callable[..., Awaitable[Any]],
    path_params: tuple[str, ...],
) -> tuple[str, Callable[[Any], Awaitable[Any]], BodyReader | None] | None:
    """The direct-call shape of a handler that needs nothing but ``ctx``, routed path
    parameters and one body; ``None`` for everything else."""
    if (
        compiler.steps
        or compiler.query
        or compiler.header
        or compiler.cookie
        or compiler.request_slots
        or any(a.kind not in ("ctx", "path", "body") for a in arguments)
        or len(compiler.readers) > 1
    ):
        return None
    kinds = [a.kind for a in arguments]
    keyword_only = inspect.Parameter.KEYWORD_ONLY
    positional_only = inspect.Parameter.POSITIONAL_ONLY
    path_names = {a.name for a in arguments if a.kind == "path"}
    all_path = path_names == set(path_params) and all(
        a.param_kind is not positional_only for a in arguments if a.kind == "path"
    )
    if not arguments:

        async def call_none(ctx: Any) -> Any:
            return await invoke()

        return "none", call_none, None
    if kinds == ["ctx"] and arguments[0].param_kind is not keyword_only:

        async def call_ctx(ctx: Any) -> Any:
            return await invoke(ctx)

        return "ctx", call_ctx, None
    if all(k == "path" for k in kinds) and all_path:

        async def call_path(ctx: Any) -> Any:
            return await invoke(**ctx.params)

        return "path", call_path, None
    if (
        kinds[0] == "ctx"
        and arguments[0].param_kind is not keyword_only
        and all(k == "path" for k in kinds[1:])
        and all_path
    ):

        async def call_ctx_path(ctx: Any) -> Any:
            return await invoke(ctx, **ctx.params)

        return "ctx+path", call_ctx_path, None
    if kinds == ["body"] and arguments[0].param_kind is not keyword_only:
        reader = compiler.readers[0][1]

        async def call_body(ctx: Any) -> Any:
            return await invoke(await reader(ctx))

        return "body", call_body, reader
    return None


def analyse_handler(
    handler: Handler,
    path_params: tuple[str, ...],
    where: str,
    *,
    dependencies: Sequence[Any] = (),
    overrides: Mapping[Any, Any] | None = None,
    status: int = 200,
    path_converters: Mapping[str, str] | None = None,
    route_options: Mapping[str, Any] | None = None,
) -> HandlerPlan:
    """Build the calling plan; a signature avian cannot serve is a
    :class:`ConfigurationError` naming ``where``.

    ``dependencies`` (app's, then each group's) run before the handler, followed by the
    route option ``dependencies``; ``overrides`` is the live ``app.dependency_overrides``
    mapping; the route option ``response_model`` replaces the return annotation
    (``response_model=None``: no response model, the output is neither shaped nor
    documented); ``path_converters`` name the route's converters (``{"id": "int"}``), typing path parameters the handler does
    not take.
    """
    # PERF: the analysis machinery loads at startup, not with `import avian`.
    from .responses import analyse_response, no_response_model
    from .solver import InputCompiler

    if not callable(handler):
        raise ConfigurationError(f"{where}: handler {handler!r} is not callable")
    options = route_options or {}
    name = getattr(handler, "__name__", None) or type(handler).__name__
    dependencies = [*dependencies, *(options.get("dependencies") or ())]
    is_async = is_async_callable(handler)
    invoke: Callable[..., Awaitable[Any]] = handler if is_async else _run_sync(handler)

    def compile_inputs(
        current: Mapping[Any, Any] | None,
    ) -> tuple[InputCompiler, list[Argument], Solver]:
        compiler = InputCompiler(path_params, where, current, name)
        compiler.add_dependencies(dependencies)
        arguments = compiler.bind(handler, where)
        return compiler, arguments, compiler.solver(invoke, arguments)

    compiler, arguments, solve = compile_inputs(overrides)
    if compiler.providers and overrides is not None:
        solve = _follow_overrides(lambda o: compile_inputs(o)[2], overrides, solve)

    declared = options.get("response_model", _UNSET)
    if declared is None:
        response = no_response_model(status)
    else:
        if declared is _UNSET:
            declared = return_annotation(handler)
        response = analyse_response(declared, status, where)

    direct = _direct_call(compiler, arguments, invoke, path_params)
    if direct is None:
        general = solve

        async def call_general(ctx: Any) -> Any:
            return await general(ctx, _keep)

        plan = HandlerPlan(handler, call_general, "general", is_async)
        plan.solve = solve
    else:
        kind, call, reader = direct
        plan = HandlerPlan(handler, call, kind, is_async, reader)
    path_types = {
        param: _CONVERTER_TYPES.get(converter, str)
        for param, converter in (path_converters or {}).items()
    }
    plan.params, plan.body = compiler.finish_specs(path_types, name)
    plan.dependencies = tuple(compiler.providers)
    plan.response = response.spec
    plan.shape = response.shape
    plan.exact_response = response.exact
    return plan
