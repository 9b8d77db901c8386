"""Harpia template source -> Jinja2 template source.

The compiler scans the template once: plain text, ``{{ expr }}`` outputs, ``## comments``
and ``@directives`` become a flat list of nodes (expressions go through
:mod:`avian.templates.expressions`).  A whitespace pass makes a line that holds only
directives vanish from the output, the structure is checked (every ``@if`` closed, blocks
in the right places, ...), and the nodes are emitted as Jinja2 source.

Line numbers are kept exactly: line *n* of the Jinja2 source is line *n* of the Harpia
source, so Jinja2's own error locations and tracebacks point at the Harpia file.  Newlines
that a directive swallows are moved inside its Jinja2 tag (``{% if x\\n%}``), where they are
whitespace.

``compile_template(source, filename, resolve)`` is the entry point; ``resolve`` turns a
``@layout``/``@import``/``@component`` name into the loader name of that file.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NoReturn

from .errors import TemplateError, TemplateNotFoundError, TemplateSyntaxError
from .expressions import NAME, OP, OTHER, Expr, ExpressionParser, jinja_string, valid_name

__all__ = ["CompiledTemplate", "Reference", "Resolver", "compile_template"]

Reference = Literal["layout", "import", "component"]
Resolver = Callable[[Reference, str], str]

_DIRECTIVES = frozenset(
    {"set", "endset", "if", "elseif", "else", "endif", "for", "endfor"}
    | {"layout", "yield", "block", "endblock", "import", "component"}
)
_CALL_DIRECTIVES = frozenset({"layout", "yield", "block", "import", "component"})
_OPENERS = frozenset({"set", "if", "elseif", "for"})  # not directives right after a letter
_ESCAPES = ("@@", "@{{", "@##")
_MARKER = re.compile(r"\{\{|@|##")
_BLANK = " \t\r"
_LEFT_BRACE = '{{ "{" }}'


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """The Jinja2 source of one Harpia template, the files it uses (layout, imports,
    components, as loader names) and the variable names its expressions read."""

    source: str
    dependencies: tuple[str, ...]
    names: frozenset[str]


@dataclass(slots=True)
class _Node:
    kind: str  # "text", "output", "comment" or a directive name
    start: int
    end: int
    text: str = ""  # text: the text
    code: str = ""  # output, set, if, elseif, for: the Jinja2 expression
    name: str = ""  # set, for (", "-joined pair), block, yield; layout/import/component path
    props: list[tuple[str, str]] = field(default_factory=list)
    pair: bool = False  # @for [k, v] in obj
    newlines: int = 0  # newlines emitted inside the tag to keep line numbers


def compile_template(source: str, filename: str, resolve: Resolver) -> CompiledTemplate:
    """Translate Harpia ``source`` (from ``filename``) to Jinja2 source."""
    return _Compiler(source, filename, resolve).run()


class _Compiler:
    def __init__(self, source: str, filename: str, resolve: Resolver) -> None:
        self.source = source
        self.filename = filename
        self.resolve = resolve
        self.names: set[str] = set()
        self.dependencies: list[str] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    # -- errors -----------------------------------------------------------------------------

    def line_of(self, pos: int) -> int:
        return bisect.bisect_right(self._line_starts, pos)

    def fail(self, message: str, pos: int) -> NoReturn:
        raise TemplateSyntaxError(message, self.filename, self.line_of(pos))

    def run(self) -> CompiledTemplate:
        nodes = self._standalone_lines(self._scan())
        source = _Emitter(self, nodes).emit()
        deps = tuple(dict.fromkeys(self.dependencies))
        return CompiledTemplate(source, deps, frozenset(self.names))

    # -- scanning ---------------------------------------------------------------------------

    def _scan(self) -> list[_Node]:
        src = self.source
        nodes: list[_Node] = []
        pos = text_start = 0

        def flush(upto: int) -> None:
            if upto > text_start:
                nodes.append(_Node("text", text_start, upto, text=src[text_start:upto]))

        while (match := _MARKER.search(src, pos)) is not None:
            at = match.start()
            marker = match.group()
            node: _Node | None
            if marker == "{{":
                node = self._output(at)
            elif marker == "##":
                node = self._comment(at)
            else:
                escape = next((e for e in _ESCAPES if src.startswith(e, at)), None)
                if escape is not None and (escape != "@@" or self._directive_word(at + 1)):
                    flush(at)
                    nodes.append(_Node("text", at, at + len(escape), text=escape[1:]))
                    pos = text_start = at + len(escape)
                    continue
                node = self._directive(at)
            if node is None:
                pos = at + len(marker)
                continue
            flush(at)
            node.newlines = src.count("\n", node.start, node.end)
            nodes.append(node)
            pos = text_start = node.end
        flush(len(src))
        return nodes

    def _directive_word(self, at: int) -> str | None:
        """The directive named at ``src[at]`` (an ``@``), or None if it is plain text."""
        src = self.source
        end = at + 1
        while end < len(src) and src[end].isalpha():
            end += 1
        word = src[at + 1 : end]
        if word not in _DIRECTIVES:
            return None
        if end < len(src) and (src[end].isalnum() or src[end] == "_"):
            return None
        if at > 0 and (src[at - 1].isalnum() or src[at - 1] == "_") and word in _OPENERS:
            return None  # e-mail addresses: ada@if.example (but "Hello@endblock" closes)
        return word

    def _output(self, at: int) -> _Node:
        parser = self._parser(at + 2)
        token = parser.peek()
        if token.kind == OP and token.value == "}" and self.source.startswith("}}", token.start):
            self.fail("empty {{ }}", at)
        expr = parser.parse_expression()
        code = expr.code
        if not parser.references:
            # Jinja2 folds constants and escapes them before `finalize` sees them, so
            # {{ null }} would print "None": a call keeps them for finalize.
            code = f"__avian_value({code})"
        token = parser.peek()
        if token.kind == OTHER and token.value == "|":
            self.fail("'|' is not an operator here (Jinja2 filters are not available)", token.start)
        if not (
            token.kind == OP and token.value == "}" and self.source.startswith("}}", token.start)
        ):
            self.fail(f"expected '}}}}' to close '{{{{', found {token.describe()}", token.start)
        return _Node("output", at, token.start + 2, code=code)

    def _comment(self, at: int) -> _Node | None:
        src = self.source
        if at > 0 and src[at - 1] not in " \t\r\n":
            return None  # "##" inside text (href="##") is text
        end = src.find("\n", at)
        return _Node("comment", at, len(src) if end < 0 else end)

    def _parser(self, pos: int, line_mode: bool = False) -> ExpressionParser:
        return ExpressionParser(self.source, pos, self.fail, line_mode, self.names)

    def _directive(self, at: int) -> _Node | None:
        word = self._directive_word(at)
        if word is None:
            return None
        src = self.source
        pos = at + 1 + len(word)
        if word == "else":  # "@else if" is accepted for "@elseif"
            probe = pos
            while probe < len(src) and src[probe] in " \t":
                probe += 1
            if src.startswith("if", probe) and not (src[probe + 2 : probe + 3].isalnum()):
                word, pos = "elseif", probe + 2
        if word in _CALL_DIRECTIVES:
            probe = pos
            while probe < len(src) and src[probe] in " \t":
                probe += 1
            if not src.startswith("(", probe):
                if word == "import":
                    return None  # CSS: @import url(...) / @import "x.css"
                self.fail(f"expected '(' after @{word}", probe)
            return self._call_directive(word, at, probe)
        if word == "set":
            return self._set(at, pos)
        if word in ("if", "elseif"):
            parser = self._parser(pos, line_mode=True)
            condition = parser.parse_expression()
            parser.expect_end_of_line(f"the @{word} condition")
            return _Node(word, at, parser.position, code=condition.code)
        if word == "for":
            return self._for(at, pos)
        if word == "endset":
            self.fail("@endset without @set", at)
        return _Node(word, at, pos)  # else, endif, endfor, endblock

    def _set(self, at: int, pos: int) -> _Node:
        parser = self._parser(pos)
        target = parser.expect_name("a variable name after @set")
        if not valid_name(target.value):
            self.fail(f"{target.value!r} cannot be a variable name", target.start)
        parser.expect("=", "'=' after the @set variable")
        value = parser.parse_expression()
        src = self.source
        end = parser.position
        while end < len(src) and src[end] in " \t\r\n":
            end += 1
        if not src.startswith("@endset", end) or src[end + 7 : end + 8].isalnum():
            self.fail("expected @endset after the @set value", end)
        return _Node("set", at, end + 7, code=value.code, name=target.value)

    def _for(self, at: int, pos: int) -> _Node:
        parser = self._parser(pos, line_mode=True)
        names: list[str] = []
        bracketed = parser.at("[")
        if bracketed:
            parser.advance()
        names.append(parser.expect_name("a loop variable after @for").value)
        if parser.at(","):
            parser.advance()
            names.append(parser.expect_name("a second loop variable").value)
        if bracketed:
            parser.expect("]", "']' after the loop variables")
        for name in names:
            if not valid_name(name):
                self.fail(f"{name!r} cannot be a loop variable", at)
        token = parser.peek()
        if not (token.kind == NAME and token.value == "in"):
            self.fail(
                f"expected 'in' after the @for variables, found {token.describe()}", token.start
            )
        parser.advance()
        iterable = parser.parse_expression()
        parser.expect_end_of_line("the @for list")
        return _Node(
            "for",
            at,
            parser.position,
            code=iterable.code,
            name=", ".join(names),
            pair=len(names) == 2,
        )

    def _call_directive(self, word: str, at: int, paren: int) -> _Node:
        parser = self._parser(paren)
        args = parser.parse_arguments()
        node = _Node(word, at, parser.position)
        most = 1 if word in ("yield", "block") else 2
        if not args or len(args) > most:
            usage = f'@{word}("name")' if most == 1 else f'@{word}("name", {{ key: value }})'
            self.fail(f"@{word} takes {usage}", paren)
        first = args[0]
        if first.kind != "string" or not isinstance(first.value, str) or not first.value:
            self.fail(f"the name given to @{word} must be a quoted string", paren)
        name = first.value
        if word in ("yield", "block"):
            if not valid_name(name):
                self.fail(f"{name!r} cannot be a block name (use letters, digits and _)", paren)
            node.name = name
            return node
        if len(args) == 2:
            node.props = self._props(word, args[1], paren)
        try:
            node.name = self.resolve(word, name)  # type: ignore[arg-type]
        except TemplateError as exc:
            raise TemplateNotFoundError(f"{exc} ({self.filename}:{self.line_of(at)})") from None
        self.dependencies.append(node.name)
        return node

    def _props(self, word: str, expr: Expr, pos: int) -> list[tuple[str, str]]:
        if expr.kind != "object" or not isinstance(expr.value, list):
            self.fail(
                f"the second argument of @{word} must be an object literal {{ key: value }}", pos
            )
        props: list[tuple[str, str]] = expr.value
        for key, _ in props:
            if not valid_name(key):
                self.fail(f"{key!r} cannot be a variable name in @{word}", pos)
        return props

    # -- whitespace -------------------------------------------------------------------------

    def _standalone_lines(self, nodes: list[_Node]) -> list[_Node]:
        """Drop the indentation and the line break of lines that hold only directives and
        comments; the line break moves into the last directive (to keep line numbers)."""
        result: list[_Node] = []
        line: list[_Node] = []
        for node in nodes:
            if node.kind != "text":
                line.append(node)
                continue
            text, start = node.text, node.start
            while text:
                cut = text.find("\n")
                piece = text if cut < 0 else text[: cut + 1]
                line.append(_Node("text", start, start + len(piece), text=piece))
                start += len(piece)
                text = text[len(piece) :]
                if piece.endswith("\n"):
                    result.extend(self._trim_line(line))
                    line = []
        result.extend(self._trim_line(line))
        return _merge_text(result)

    @staticmethod
    def _trim_line(line: list[_Node]) -> list[_Node]:
        tags = [n for n in line if n.kind not in ("text", "output")]
        if not tags:
            return line
        blank = all(
            n.kind != "output" and (n.kind != "text" or not n.text.strip(_BLANK + "\n"))
            for n in line
        )
        if blank:
            if line[-1].kind == "text" and line[-1].text.endswith("\n"):
                tags[-1].newlines += 1
            return tags
        for index, node in enumerate(line):  # "<p>x</p>   ## note": drop the spaces too
            if node.kind == "comment" and index and line[index - 1].kind == "text":
                line[index - 1].text = line[index - 1].text.rstrip(" \t")
        return line


def _merge_text(nodes: list[_Node]) -> list[_Node]:
    merged: list[_Node] = []
    for node in nodes:
        if node.kind == "text" and merged and merged[-1].kind == "text":
            merged[-1].text += node.text
            merged[-1].end = node.end
        elif node.kind != "text" or node.text:
            merged.append(node)
    return merged


def _escape_text(text: str) -> str:
    """Plain text as Jinja2 source: a ``{`` that would start a Jinja2 tag (here or together
    with the tag emitted next) is written as an expression instead."""
    if "{" not in text:
        return text
    out: list[str] = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == "{" and (index == last or text[index + 1] in "{%#"):
            out.append(_LEFT_BRACE)
        else:
            out.append(char)
    return "".join(out)


def _tag(body: str, newlines: int) -> str:
    return "{% " + body + " " + "\n" * newlines + "%}"


class _Emitter:
    """Checks the structure of the node list and writes the Jinja2 source."""

    def __init__(self, compiler: _Compiler, nodes: list[_Node]) -> None:
        self.compiler = compiler
        self.nodes = nodes
        layouts = [n for n in nodes if n.kind == "layout"]
        if len(layouts) > 1:
            compiler.fail("a template can have only one @layout", layouts[1].start)
        self.has_layout = bool(layouts)
        # A view with a layout and no @block: everything after @layout is the block "body".
        self.implicit_body = self.has_layout and not any(n.kind == "block" for n in nodes)
        self.seen_layout = False
        self.stack: list[tuple[_Node, bool]] = []  # open if/for/block, and "has @else"
        self.blocks: set[str] = set()
        self.out: list[str] = []

    def fail(self, message: str, node: _Node) -> NoReturn:
        self.compiler.fail(message, node.start)

    def emit(self) -> str:
        for node in self.nodes:
            getattr(self, f"_{node.kind}")(node)
        if self.stack:
            node = self.stack[-1][0]
            closer = {"if": "@endif", "for": "@endfor", "block": "@endblock"}[node.kind]
            self.fail(f"@{node.kind} is never closed: add {closer}", node)
        if self.implicit_body and self.seen_layout:
            self.out.append("{% endblock %}")
        return "".join(self.out)

    def _outside_blocks(self) -> bool:
        """Whether output here would be lost: the top level of a view with a layout."""
        if not self.has_layout or self.stack:
            return False
        return not (self.implicit_body and self.seen_layout)

    def _renders(self, node: _Node, what: str) -> None:
        if self._outside_blocks():
            where = "before @layout" if self.implicit_body else "outside @block"
            self.fail(f"{what} {where} in a view with a layout is never shown", node)

    def _text(self, node: _Node) -> None:
        if self._outside_blocks():
            stripped = node.text.lstrip(_BLANK + "\n")
            if stripped:
                lead = node.text[: len(node.text) - len(stripped)]
                self.compiler.fail(
                    "text outside @block in a view with a layout is never shown"
                    if not self.implicit_body
                    else "text before @layout is never shown",
                    node.start + len(lead),
                )
            if "\n" in node.text:
                self.out.append("{#" + "\n" * node.text.count("\n") + "#}")
            return
        self.out.append(_escape_text(node.text))

    def _comment(self, node: _Node) -> None:
        self.out.append("{#" + "\n" * node.newlines + "#}")

    def _output(self, node: _Node) -> None:
        self._renders(node, "{{ }}")
        self.out.append("{{ " + node.code + " " + "\n" * node.newlines + "}}")

    def _set(self, node: _Node) -> None:
        self.out.append(_tag(f"set {node.name} = {node.code}", node.newlines))

    def _open(self, node: _Node, body: str) -> None:
        self._renders(node, f"@{node.kind}")
        self.stack.append((node, False))
        self.out.append(_tag(body, node.newlines))

    def _if(self, node: _Node) -> None:
        self._open(node, f"if {node.code}")

    def _for(self, node: _Node) -> None:
        iterable = f"__avian_pairs({node.code})" if node.pair else node.code
        self._open(node, f"for {node.name} in {iterable}")

    def _top(self, node: _Node, kinds: tuple[str, ...]) -> tuple[_Node, bool]:
        if not self.stack or self.stack[-1][0].kind not in kinds:
            opener = " or @".join(kinds)
            if self.stack:
                inner = self.stack[-1][0]
                line = self.compiler.line_of(inner.start)
                if node.kind.startswith("end"):
                    self.fail(
                        f"@{node.kind} while @{inner.kind} (line {line}) is open: "
                        f"expected @end{inner.kind}",
                        node,
                    )
                self.fail(f"@{node.kind} inside @{inner.kind} (line {line}), not @{opener}", node)
            self.fail(f"@{node.kind} without a matching @{opener}", node)
        return self.stack[-1]

    def _elseif(self, node: _Node) -> None:
        _, has_else = self._top(node, ("if",))
        if has_else:
            self.fail("@elseif after @else", node)
        self.out.append(_tag(f"elif {node.code}", node.newlines))

    def _else(self, node: _Node) -> None:
        opener, has_else = self._top(node, ("if", "for"))
        if has_else:
            self.fail("a second @else", node)
        self.stack[-1] = (opener, True)
        self.out.append(_tag("else", node.newlines))

    def _close(self, node: _Node, kind: str) -> None:
        self._top(node, (kind,))
        self.stack.pop()
        self.out.append(_tag(f"end{kind}", node.newlines))

    def _endif(self, node: _Node) -> None:
        self._close(node, "if")

    def _endfor(self, node: _Node) -> None:
        self._close(node, "for")

    def _endblock(self, node: _Node) -> None:
        self._close(node, "block")

    def _layout(self, node: _Node) -> None:
        if self.stack:
            self.fail("@layout must be at the top level of the view", node)
        self.seen_layout = True
        tags = [f"{{% set {key} = {value} %}}" for key, value in node.props]
        if self.implicit_body:
            tags.append(f"{{% extends {jinja_string(node.name)} %}}")
            tags.append(_tag("block body scoped", node.newlines))
        else:
            tags.append(_tag(f"extends {jinja_string(node.name)}", node.newlines))
        self.out.append("".join(tags))

    def _block(self, node: _Node) -> None:
        if any(opener.kind != "block" for opener, _ in self.stack):
            self.fail("@block must be at the top level or inside another @block", node)
        if node.name in self.blocks:
            self.fail(f"block {node.name!r} is defined twice", node)
        self.blocks.add(node.name)
        self.stack.append((node, False))
        self.out.append(_tag(f"block {node.name} scoped", node.newlines))

    def _yield(self, node: _Node) -> None:
        self._renders(node, "@yield")
        if node.name in self.blocks:  # a second place for the same block
            self.out.append("{{ self." + node.name + "() " + "\n" * node.newlines + "}}")
            return
        self.blocks.add(node.name)
        self.out.append(f"{{% block {node.name} scoped %}}" + _tag("endblock", node.newlines))

    def _import(self, node: _Node) -> None:
        self._renders(node, "@import")
        include = f"include {jinja_string(node.name)}"
        if not node.props:
            self.out.append(_tag(include, node.newlines))
            return
        assignments = ", ".join(f"{key} = {value}" for key, value in node.props)
        self.out.append(
            f"{{% with {assignments} %}}{{% {include} %}}" + _tag("endwith", node.newlines)
        )

    def _component(self, node: _Node) -> None:
        self._renders(node, "@component")
        props = ", ".join(f"{jinja_string(key)}: {value}" for key, value in node.props)
        call = f"__avian_component({jinja_string(node.name)}, {{{props}}})"
        self.out.append("{{ " + call + " " + "\n" * node.newlines + "}}")
