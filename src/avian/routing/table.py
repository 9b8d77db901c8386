"""The route table: a dict for static paths and a segment trie for the rest.

Lookup cost depends on the depth of the path, never on how many routes exist.  Static
segments are tried before parameters; competing parameters are tried in registration order
(te.js's "exact first, then parameterised routes in order"), backtracking when a deeper
segment fails, or (when the request method is given) when the matched route does not serve
that method.  Converters run during the walk, so a match carries converted values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from ..errors import ConfigurationError
from .patterns import NO_MATCH, Converter, PathPattern

__all__ = ["ANY_METHOD", "MethodMap", "RouteTable", "method_order"]

T = TypeVar("T")

ANY_METHOD = "*"


class MethodMap(Generic[T]):
    """Everything registered for one path shape: the endpoint per method, and ``Allow``."""

    __slots__ = ("any", "by_method", "names", "shape")

    def __init__(self, shape: str) -> None:
        self.shape = shape
        self.by_method: dict[str, T] = {}
        self.any: T | None = None
        # Parameter names per endpoint (one shape may use different names per method).
        self.names: dict[int, tuple[str, ...]] = {}

    def add(self, methods: Iterable[str] | None, endpoint: T, pattern: PathPattern) -> None:
        where = pattern.path
        if methods is None:
            if self.any is not None or self.by_method:
                raise ConfigurationError(f"route collision: {where} (any method) is already routed")
            self.any = endpoint
        else:
            if self.any is not None:
                raise ConfigurationError(f"route collision: {where} is routed for any method")
            for method in methods:
                if method in self.by_method:
                    raise ConfigurationError(f"route collision: {method} {where} registered twice")
                self.by_method[method] = endpoint
        self.names[id(endpoint)] = pattern.param_names

    def lookup(self, method: str) -> T | None:
        found = self.by_method.get(method)
        if found is not None:
            return found
        if method == "HEAD":
            found = self.by_method.get("GET")
            if found is not None:
                return found
        return self.any

    def allowed(self) -> list[str]:
        """Methods for the ``Allow`` header: registered ones plus implied HEAD and OPTIONS."""
        if self.any is not None:
            return ["*"]
        methods = set(self.by_method)
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        return method_order(methods)

    def params_for(self, endpoint: T, values: list[Any]) -> dict[str, Any]:
        return dict(zip(self.names[id(endpoint)], values, strict=True))


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def method_order(methods: Iterable[str]) -> list[str]:
    """Methods in the conventional order for ``Allow`` (GET, HEAD, POST, ...), others after."""
    known = len(_METHOD_ORDER)
    return sorted(
        methods, key=lambda m: (_METHOD_ORDER.index(m) if m in _METHOD_ORDER else known, m)
    )


class _Node(Generic[T]):
    __slots__ = ("catch_all", "entry", "params", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        self.params: list[tuple[Converter, _Node[T]]] = []
        self.catch_all: MethodMap[T] | None = None
        self.entry: MethodMap[T] | None = None


class RouteTable(Generic[T]):
    """Maps ``(path)`` to the :class:`MethodMap` of the route that matches it."""

    __slots__ = ("_root", "_shapes", "static")

    def __init__(self) -> None:
        self.static: dict[str, MethodMap[T]] = {}
        self._root: _Node[T] = _Node()
        self._shapes: dict[str, MethodMap[T]] = {}

    def add(self, pattern: PathPattern, methods: Iterable[str] | None, endpoint: T) -> None:
        """Register an endpoint; collisions raise :class:`ConfigurationError`."""
        shape = pattern.shape()
        entry = self._shapes.get(shape)
        if entry is None:
            entry = self._shapes[shape] = MethodMap(shape)
            self._insert(pattern, entry)
            if pattern.is_static:
                self.static[pattern.path] = entry
        entry.add(methods, endpoint, pattern)

    def _insert(self, pattern: PathPattern, entry: MethodMap[T]) -> None:
        node = self._root
        for seg in pattern.segments:
            conv = seg.converter
            if conv is None:
                node = node.static.setdefault(seg.text, _Node())
            elif conv.name == "path":
                node.catch_all = entry
                return
            else:
                for existing, child in node.params:
                    if existing is conv:
                        node = child
                        break
                else:
                    child = _Node()
                    node.params.append((conv, child))
                    node = child
        node.entry = entry

    def match(self, path: str, method: str | None = None) -> tuple[MethodMap[T], list[Any]] | None:
        """Find the entry for a decoded path (no ``%2F`` ambiguity: see :meth:`match_segments`).

        With ``method``, a route that serves it wins over an earlier path match that does
        not; if none serves it, the first path match is returned (for 405 and ``Allow``).
        """
        entry = self.static.get(path)
        if entry is not None and (method is None or entry.lookup(method) is not None):
            return entry, []
        return self.match_segments(path[1:].split("/"), method)

    def match_segments(
        self, segments: list[str], method: str | None = None
    ) -> tuple[MethodMap[T], list[Any]] | None:
        """Walk the trie with already split (and individually decoded) segments."""
        values: list[Any] = []
        misses: list[tuple[MethodMap[T], list[Any]]] = []
        entry = self._walk(self._root, segments, 0, values, method, misses)
        if entry is not None:
            return entry, values
        return misses[0] if misses else None

    def _accept(
        self,
        entry: MethodMap[T] | None,
        values: list[Any],
        method: str | None,
        misses: list[tuple[MethodMap[T], list[Any]]],
    ) -> MethodMap[T] | None:
        """``entry`` if it serves ``method``; else remember the first miss and keep looking."""
        if entry is None or method is None or entry.lookup(method) is not None:
            return entry
        if not misses:
            misses.append((entry, list(values)))
        return None

    def _walk(
        self,
        node: _Node[T],
        segments: list[str],
        index: int,
        values: list[Any],
        method: str | None,
        misses: list[tuple[MethodMap[T], list[Any]]],
    ) -> MethodMap[T] | None:
        if index == len(segments):
            return self._accept(node.entry, values, method, misses)
        seg = segments[index]
        child = node.static.get(seg)
        if child is not None:
            found = self._walk(child, segments, index + 1, values, method, misses)
            if found is not None:
                return found
        for conv, child in node.params:
            value = conv.convert(seg)
            if value is NO_MATCH:
                continue
            values.append(value)
            found = self._walk(child, segments, index + 1, values, method, misses)
            if found is not None:
                return found
            values.pop()
        if node.catch_all is not None:
            values.append("/".join(segments[index:]))
            found = self._accept(node.catch_all, values, method, misses)
            if found is not None:
                return found
            values.pop()
        return None

    def entries(self) -> list[MethodMap[T]]:
        return list(self._shapes.values())
