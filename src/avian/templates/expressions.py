"""The JavaScript-flavoured expressions of Harpia templates, translated to Jinja2 expressions.

A small lexer and a recursive-descent parser read ``{ title: "x" }``, ``user.name``,
``a && !b``, ``x === 1 ? "one" : "many"``, ``price + " EUR"``, plugin calls and the rest,
and emit an equivalent, fully parenthesised Jinja2 expression.  Nothing the template author
writes reaches Jinja2 as text: names are checked, string literals are re-encoded, and
Jinja2's filters (``|safe``) cannot be written at all, so the only way to output unescaped
HTML is ``raw(...)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

__all__ = ["Expr", "ExpressionParser", "Token", "jinja_string", "valid_name"]

NAME = "name"
NUMBER = "number"
STRING = "string"
OP = "op"
EOL = "end of line"
EOF = "end of template"
OTHER = "other"

# Longest first, so that "===" wins over "==" and "=".
_OPERATORS = (
    "===",
    "!==",
    "?.",
    "??",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<",
    ">",
    "!",
    "?",
    ":",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "=",
)
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")
_SPACE = frozenset(" \t\r\f\v")
_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}

# Words with a meaning of their own in expressions: never plain variable names.
_LITERALS = {
    "true": "true",
    "True": "true",
    "false": "false",
    "False": "false",
    "null": "none",
    "undefined": "none",
    "None": "none",
}
_OPERATOR_WORDS = frozenset({"and", "or", "not", "in"})
# Names Jinja2's parser gives a meaning of its own; emitted as subscripts when used as keys.
_JINJA_WORDS = frozenset(
    {"and", "or", "not", "in", "is", "if", "else", "true", "false", "none"}
    | {"True", "False", "None"}
)
_RESERVED = _JINJA_WORDS | {"self"}
_SAFE_STRING_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;!?()[]/@=+*&^$|~<>'"
)


def jinja_string(value: str) -> str:
    """A Jinja2 string literal that decodes to exactly ``value``.

    Every character that could mean something to Jinja2's lexer or to its unescaping
    (quotes, backslashes, braces, ``%``, ``#``, control characters, non-ASCII) is written as
    a ``\\x``/``\\u`` escape.
    """
    out = ['"']
    for char in value:
        if char in _SAFE_STRING_CHARS:
            out.append(char)
            continue
        code = ord(char)
        if code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def valid_name(name: str) -> bool:
    """Whether ``name`` can be a template variable (``@set``, ``@for``, props)."""
    return (
        name.isidentifier()
        and not name.startswith("__")
        and name not in _RESERVED
        and name not in _LITERALS
        and name not in _OPERATOR_WORDS
    )


@dataclass(slots=True)
class Token:
    kind: str
    value: str
    start: int
    end: int

    def describe(self) -> str:
        if self.kind in (EOL, EOF):
            return self.kind
        return repr(self.value)


@dataclass(slots=True)
class Expr:
    """One translated expression: its Jinja2 code, plus what the directives need to know
    (the value of a string literal, the keys of an object literal)."""

    code: str
    kind: str = "expr"  # "string", "object", "name" or "expr"
    value: object = None
    atomic: bool = True  # can take ``.x``, ``[i]`` and ``(...)`` without parentheses


class _Lexer:
    def __init__(
        self, source: str, pos: int, line_mode: bool, fail: Callable[[str, int], NoReturn]
    ):
        self.source = source
        self.pos = pos
        self.line_mode = line_mode
        self.fail = fail
        self.depth = 0

    def next(self) -> Token:
        source = self.source
        length = len(source)
        pos = self.pos
        while pos < length:
            char = source[pos]
            if char in _SPACE:
                pos += 1
            elif char == "\n":
                if self.line_mode and self.depth == 0:
                    self.pos = pos
                    return Token(EOL, "\n", pos, pos)
                pos += 1
            else:
                break
        self.pos = pos
        if pos >= length:
            return Token(EOF, "", pos, pos)
        char = source[pos]
        if char in "'\"":
            return self._string(pos, char)
        if char == "`":
            self.fail("template literals (`...`) are not supported; join strings with +", pos)
        if char.isdigit() or (char == "." and source[pos + 1 : pos + 2].isdigit()):
            return self._number(pos)
        if char.isidentifier():
            end = pos + 1
            while end < length and (source[end].isalnum() or source[end] == "_"):
                end += 1
            self.pos = end
            return Token(NAME, source[pos:end], pos, end)
        for op in _OPERATORS:
            if source.startswith(op, pos):
                if op == "?." and source[pos + 2 : pos + 3].isdigit():
                    continue  # "a ?.5 : b" is a ternary, not optional chaining
                self.pos = pos + len(op)
                if op in _OPENERS:
                    self.depth += 1
                elif op in _CLOSERS and self.depth:
                    self.depth -= 1
                return Token(OP, op, pos, self.pos)
        self.pos = pos + 1
        return Token(OTHER, char, pos, pos + 1)

    def _string(self, start: int, quote: str) -> Token:
        source = self.source
        pos = start + 1
        out: list[str] = []
        while True:
            if pos >= len(source) or source[pos] == "\n":
                self.fail("unterminated string literal", start)
            char = source[pos]
            if char == quote:
                break
            if char == "\\":
                pos += 1
                if pos >= len(source):
                    self.fail("unterminated string literal", start)
                escaped = source[pos]
                if escaped in "xu":
                    width = 2 if escaped == "x" else 4
                    digits = source[pos + 1 : pos + 1 + width]
                    if len(digits) != width or not all(c in _HEX for c in digits):
                        self.fail(f"bad \\{escaped} escape in a string literal", pos - 1)
                    out.append(chr(int(digits, 16)))
                    pos += width
                elif escaped == "\n":
                    pass  # a backslash-newline continues the string on the next line
                else:
                    out.append(_ESCAPES.get(escaped, escaped))
            else:
                out.append(char)
            pos += 1
        self.pos = pos + 1
        return Token(STRING, "".join(out), start, pos + 1)

    def _number(self, start: int) -> Token:
        source = self.source
        pos = start
        while pos < len(source) and source[pos].isdigit():
            pos += 1
        if source[pos : pos + 1] == "." and source[pos + 1 : pos + 2].isdigit():
            pos += 1
            while pos < len(source) and source[pos].isdigit():
                pos += 1
        if source[pos : pos + 1] in ("e", "E"):
            exponent = pos + 1
            if source[exponent : exponent + 1] in ("+", "-"):
                exponent += 1
            if source[exponent : exponent + 1].isdigit():
                pos = exponent
                while pos < len(source) and source[pos].isdigit():
                    pos += 1
        if pos < len(source) and (source[pos].isalpha() or source[pos] == "_"):
            self.fail(f"bad number {source[start : pos + 1]!r}", start)
        self.pos = pos
        return Token(NUMBER, source[start:pos], start, pos)


@dataclass(slots=True)
class ExpressionParser:
    """Parses one expression from ``source`` at ``pos`` and translates it to Jinja2.

    ``line_mode`` ends the expression at the end of the line (``@if``/``@for`` conditions)
    unless a bracket is still open.  ``names`` collects every variable the expression reads.
    """

    source: str
    pos: int
    fail: Callable[[str, int], NoReturn]
    line_mode: bool = False
    names: set[str] = field(default_factory=set)
    references: int = 0  # variables read so far: 0 means the expression is a constant
    _lexer: _Lexer = field(init=False)
    _buffer: list[Token] = field(init=False, default_factory=list)
    _last_end: int = field(init=False)

    def __post_init__(self) -> None:
        self._lexer = _Lexer(self.source, self.pos, self.line_mode, self.fail)
        self._last_end = self.pos

    # -- token stream ---------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Where the last token consumed ends: the caller resumes scanning there."""
        return self._last_end

    def peek(self, ahead: int = 0) -> Token:
        while len(self._buffer) <= ahead:
            self._buffer.append(self._lexer.next())
        return self._buffer[ahead]

    def advance(self) -> Token:
        token = self.peek()
        self._buffer.pop(0)
        self._last_end = token.end
        return token

    def at(self, value: str, kind: str = OP) -> bool:
        token = self.peek()
        return token.kind == kind and token.value == value

    def expect(self, value: str, what: str | None = None) -> Token:
        token = self.peek()
        if token.kind != OP or token.value != value:
            self.fail(f"expected {what or repr(value)}, found {token.describe()}", token.start)
        return self.advance()

    def expect_name(self, what: str) -> Token:
        token = self.peek()
        if token.kind != NAME:
            self.fail(f"expected {what}, found {token.describe()}", token.start)
        return self.advance()

    def expect_end_of_line(self, after: str) -> None:
        token = self.peek()
        if token.kind not in (EOL, EOF):
            hint = ""
            if token.kind == OTHER and token.value == "@":
                hint = f" ({after} runs to the end of its line: put the body on the next line)"
            self.fail(f"unexpected {token.describe()} after {after}{hint}", token.start)

    # -- grammar, lowest precedence first ---------------------------------------------------

    def parse_expression(self) -> Expr:
        condition = self._coalesce()
        if not self.at("?"):
            return condition
        self.advance()
        then = self.parse_expression()
        self.expect(":", "':' of the ?: expression")
        otherwise = self.parse_expression()
        return Expr(f"({then.code} if {condition.code} else {otherwise.code})", atomic=False)

    def _coalesce(self) -> Expr:
        left = self._or()
        while self.at("??"):
            self.advance()
            right = self._or()
            left = Expr(f"__avian_coalesce({left.code}, {right.code})")
        return left

    def _or(self) -> Expr:
        left = self._and()
        while self.at("||") or self.at("or", NAME):
            self.advance()
            right = self._and()
            left = Expr(f"({left.code} or {right.code})", atomic=False)
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self.at("&&") or self.at("and", NAME):
            self.advance()
            right = self._not()
            left = Expr(f"({left.code} and {right.code})", atomic=False)
        return left

    def _not(self) -> Expr:
        if self.at("not", NAME):
            self.advance()
            operand = self._not()
            return Expr(f"(not {operand.code})", atomic=False)
        return self._equality()

    def _equality(self) -> Expr:
        left = self._comparison()
        while self.peek().kind == OP and self.peek().value in ("==", "===", "!=", "!=="):
            op = "==" if self.advance().value in ("==", "===") else "!="
            right = self._comparison()
            left = Expr(f"({left.code} {op} {right.code})", atomic=False)
        return left

    def _comparison(self) -> Expr:
        left = self._additive()
        while True:
            token = self.peek()
            if token.kind == OP and token.value in ("<", ">", "<=", ">="):
                op = self.advance().value
            elif token.kind == NAME and token.value == "in":
                self.advance()
                op = "in"
            elif (
                token.kind == NAME
                and token.value == "not"
                and self.peek(1).kind == NAME
                and self.peek(1).value == "in"
            ):
                self.advance()
                self.advance()
                op = "not in"
            else:
                return left
            right = self._additive()
            left = Expr(f"({left.code} {op} {right.code})", atomic=False)

    def _additive(self) -> Expr:
        left = self._multiplicative()
        while self.peek().kind == OP and self.peek().value in ("+", "-"):
            op = self.advance().value
            right = self._multiplicative()
            if op == "+":  # JavaScript's +: adds numbers, joins as soon as one side is text
                left = Expr(f"__avian_add({left.code}, {right.code})")
            else:
                left = Expr(f"({left.code} - {right.code})", atomic=False)
        return left

    def _multiplicative(self) -> Expr:
        left = self._unary()
        while self.peek().kind == OP and self.peek().value in ("*", "/", "%"):
            op = self.advance().value
            right = self._unary()
            left = Expr(f"({left.code} {op} {right.code})", atomic=False)
        return left

    def _unary(self) -> Expr:
        token = self.peek()
        if token.kind == OP and token.value in ("!", "-", "+"):
            self.advance()
            operand = self._unary()
            op = "not " if token.value == "!" else token.value
            return Expr(f"({op}{operand.code})", atomic=False)
        return self._postfix()

    def _postfix(self) -> Expr:
        expr = self._primary()
        while True:
            token = self.peek()
            if token.kind != OP:
                return expr
            base = expr.code if expr.atomic else f"({expr.code})"
            if token.value in (".", "?."):
                self.advance()
                name = self.expect_name("a property name after '.'")
                expr = Expr(self._member(base, name))
            elif token.value == "[":
                self.advance()
                index = self.parse_expression()
                self.expect("]", "']'")
                expr = Expr(f"{base}[{index.code}]")
            elif token.value == "(":
                args = self.parse_arguments()
                expr = Expr(f"{base}({', '.join(arg.code for arg in args)})")
            else:
                return expr

    def _member(self, base: str, token: Token) -> str:
        name = token.value
        if name.startswith("__"):
            self.fail(f"{name!r}: names starting with '__' are not accessible", token.start)
        if name == "length":  # JavaScript's .length: len() unless the value has its own
            return f"__avian_length({base})"
        if name.isidentifier() and name not in _JINJA_WORDS:
            return f"{base}.{name}"
        return f"{base}[{jinja_string(name)}]"

    def parse_arguments(self) -> list[Expr]:
        """``( expr, expr, ... )`` with an optional trailing comma."""
        self.expect("(")
        args: list[Expr] = []
        while not self.at(")"):
            args.append(self.parse_expression())
            if not self.at(","):
                break
            self.advance()
        self.expect(")", "',' or ')'")
        return args

    def _primary(self) -> Expr:
        token = self.peek()
        kind = token.kind
        if kind == NUMBER:
            self.advance()
            return Expr(self._number(token), atomic=False)
        if kind == STRING:
            self.advance()
            return Expr(jinja_string(token.value), "string", token.value)
        if kind == NAME:
            return self._name()
        if kind == OP and token.value == "(":
            self.advance()
            inner = self.parse_expression()
            self.expect(")", "')'")
            return Expr(f"({inner.code})")
        if kind == OP and token.value == "[":
            return self._array()
        if kind == OP and token.value == "{":
            return self._object()
        if kind == OTHER and token.value == "|":
            self.fail("'|' is not an operator here (Jinja2 filters are not available)", token.start)
        self.fail(f"unexpected {token.describe()}", token.start)

    def _number(self, token: Token) -> str:
        text = token.value
        if text.isdigit():
            return str(int(text))
        value = float(text)
        if not math.isfinite(value):
            self.fail(f"number {text!r} is too large", token.start)
        return repr(value)

    def _name(self) -> Expr:
        token = self.advance()
        name = token.value
        literal = _LITERALS.get(name)
        if literal is not None:
            return Expr(literal)
        if name in _OPERATOR_WORDS or name in _RESERVED:
            self.fail(f"unexpected {name!r}", token.start)
        if name.startswith("__"):
            self.fail(f"{name!r}: names starting with '__' are not accessible", token.start)
        self.names.add(name)
        self.references += 1
        return Expr(name, "name", name)

    def _array(self) -> Expr:
        self.expect("[")
        items: list[str] = []
        while not self.at("]"):
            items.append(self.parse_expression().code)
            if not self.at(","):
                break
            self.advance()
        self.expect("]", "',' or ']'")
        return Expr(f"[{', '.join(items)}]")

    def _object(self) -> Expr:
        """``{ key: value, "quoted": v, [computed]: v, shorthand }`` -> a Jinja2 dict."""
        self.expect("{")
        entries: list[tuple[str, str]] = []
        static: list[tuple[str, str]] | None = []
        while not self.at("}"):
            token = self.peek()
            if token.kind == NAME and self.peek(1).kind == OP and self.peek(1).value in ",}":
                value = self._name()  # shorthand { user } means { user: user }
                key_code, key = jinja_string(token.value), token.value
                entries.append((key_code, value.code))
                if static is not None:
                    static.append((key, value.code))
            else:
                if token.kind in (NAME, STRING, NUMBER):
                    self.advance()
                    key = token.value if token.kind != NUMBER else self._number(token)
                    key_code = jinja_string(key)
                elif token.kind == OP and token.value == "[":
                    self.advance()
                    key_code = self.parse_expression().code
                    self.expect("]", "']'")
                    key = ""
                    static = None  # keys known only when rendering
                else:
                    self.fail(f"expected a property name, found {token.describe()}", token.start)
                self.expect(":", "':' after the property name")
                value = self.parse_expression()
                entries.append((key_code, value.code))
                if static is not None:
                    static.append((key, value.code))
            if not self.at(","):
                break
            self.advance()
        self.expect("}", "',' or '}'")
        code = "{" + ", ".join(f"{key}: {value}" for key, value in entries) + "}"
        if static is None:
            return Expr(code)
        return Expr(code, "object", static)
