"""`parse_dims`: the one parser of text in layercalc.

SymPy's ``sympify`` and ``parse_expr`` evaluate their input as Python (``sympify("__import__('os')
.system('...')")`` runs the command), so no string ever reaches them anywhere in layercalc. Text
that holds sizes (a command-line ``--input``, a config file, a web form) goes through this
module: a whitelist grammar read by a small recursive-descent parser that builds SymPy objects
directly, with no ``eval``.

Grammar (whitespace is ignored between tokens)::

    dims    := expr (SEP expr)*           SEP is "," if the text contains a comma, else "x"
    expr    := term (("+" | "-") term)*
    term    := factor (("*" | "/") factor)*
    factor  := ("+" | "-") factor | atom
    atom    := INTEGER | NAME | "(" expr ")"
    INTEGER := [0-9]+                       at most 100 digits
    NAME    := [A-Za-z_][A-Za-z0-9_]*       at most 64 characters, not a reserved name

``/`` is exact division (``H/2`` is half of ``H``, an integer only when ``H`` is even). With
``x`` as the separator a name cannot contain a lowercase ``x``; separate with commas then
(``3,max_len``). Each entry is then checked as a size by `layercalc.dims.as_dim`: an integer or
an integer-valued expression, positive. Names become positive-integer symbols
(`layercalc.symbols`); names that SymPy prints as something else (``I``, ``E``, ``pi``, ``oo``,
``nan``, ``zoo``, function names such as ``sin``, ``floor``, ``Max``) are rejected, see
`layercalc.symbols.RESERVED_NAMES`.

Limits: at most 1000 characters of text, 100 digits per integer, 64 characters per name,
parentheses nested at most 50 deep. Anything outside the grammar or the limits raises a
`ParseError` naming the text, the position and what was expected.
"""

from __future__ import annotations

import re
from typing import Any

import sympy as sp

from .dims import Dim, as_dim, show
from .errors import LayerSpecError, ParseError
from .symbols import RESERVED_NAMES, symbols

__all__ = ["parse_dims", "MAX_TEXT", "MAX_DIGITS", "MAX_NAME", "MAX_DEPTH"]

#: Longest text `parse_dims` reads, in characters.
MAX_TEXT = 1000
#: Longest integer literal, in digits (far past any size; Python itself refuses to convert
#: strings of more than 4300 digits).
MAX_DIGITS = 100
#: Longest name, in characters.
MAX_NAME = 64
#: Deepest nesting of parentheses.
MAX_DEPTH = 50

_TOKEN = re.compile(r"\s*(?:(?P<int>[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/()]))")


class _Parser:
    """Recursive descent over one entry of the text (see the module docstring)."""

    def __init__(self, text: str, entry: str, start: int, what: str) -> None:
        self.text, self.entry, self.offset, self.what = text, entry, start, what
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(entry):
            if entry[pos:].strip() == "":
                break
            m = _TOKEN.match(entry, pos)
            if m is None:
                bad = entry[pos:].lstrip()[0]
                at = pos + (len(entry[pos:]) - len(entry[pos:].lstrip()))
                self.fail(at, f"unexpected character {bad!r}; allowed: integers, names and "
                          "+ - * / ( )")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def fail(self, at: int, message: str) -> None:
        raise ParseError(f"{self.what} {show(self.text)}: {message} (at character "
                         f"{self.offset + at + 1})")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Any:
        if not self.tokens:
            self.fail(0, "empty entry; expected a size such as 224 or H")
        value = self.expr()
        tok = self.peek()
        if tok is not None:
            self.fail(tok[2], f"unexpected {tok[1]!r} after a complete size; expected an "
                      "operator (+ - * /) or the end of the entry")
        return value

    def expr(self) -> Any:
        value = self.term()
        while (tok := self.peek()) is not None and tok[1] in "+-" and tok[0] == "op":
            self.take()
            rhs = self.term()
            value = value + rhs if tok[1] == "+" else value - rhs
        return value

    def term(self) -> Any:
        value = self.factor()
        while (tok := self.peek()) is not None and tok[1] in "*/" and tok[0] == "op":
            self.take()
            rhs = self.factor()
            if tok[1] == "*":
                value = value * rhs
            else:
                if rhs == 0:
                    self.fail(tok[2], "division by zero")
                value = (sp.Rational(value, rhs) if type(value) is int and type(rhs) is int
                         else value / rhs)
        return value

    def factor(self) -> Any:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in "+-":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                self.fail(tok[2], f"more than {MAX_DEPTH} nested signs or parentheses")
            value = self.factor()
            self.depth -= 1
            return -value if tok[1] == "-" else value
        return self.atom()

    def atom(self) -> Any:
        tok = self.peek()
        if tok is None:
            self.fail(len(self.entry), "the entry ends where a size was expected")
        kind, text, at = self.take()
        if kind == "int":
            if len(text) > MAX_DIGITS:
                self.fail(at, f"an integer of {len(text)} digits (at most {MAX_DIGITS})")
            try:
                return int(text)
            except ValueError:  # Python's int-string conversion limit
                self.fail(at, f"an integer of {len(text)} digits is too long")
        if kind == "name":
            if len(text) > MAX_NAME:
                self.fail(at, f"a name of {len(text)} characters (at most {MAX_NAME})")
            if text in RESERVED_NAMES:
                self.fail(at, f"{text!r} is a reserved name: SymPy prints a constant or a "
                          "function by that name; choose another (H, W, C, L, ...)")
            return symbols(text)
        if text == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                self.fail(at, f"more than {MAX_DEPTH} nested parentheses")
            value = self.expr()
            close = self.peek()
            if close is None or close[1] != ")":
                self.fail(close[2] if close else len(self.entry), "missing ')'")
            self.take()
            self.depth -= 1
            return value
        self.fail(at, f"unexpected {text!r}; expected an integer, a name or '('")
        raise AssertionError  # pragma: no cover - fail() raises


def parse_dims(text: str, what: str = "dims") -> tuple[Dim, ...]:
    """Parse sizes from text: ``"3x224x224"``, ``"3xHxW"``, ``"3,H,W"``, ``"2*C, H/2 + 1"``.

    Returns a tuple with one entry per size: Python ints for numbers, SymPy expressions in
    positive-integer symbols for names. Nothing is evaluated: the grammar (module docstring)
    admits integers, names and ``+ - * / ( )`` only. `what` names the text in error messages
    (the CLI passes ``--input``). Every entry must be a positive integer size.

    >>> parse_dims("3x224x224")
    (3, 224, 224)
    >>> parse_dims("3,H,W")
    (3, H, W)
    >>> parse_dims("C, H/2 + 1")
    (C, H/2 + 1)
    >>> parse_dims("3x__import__('os')")
    Traceback (most recent call last):
    ...
    layercalc.errors.ParseError: dims "3x__import__('os')": unexpected character "'"; allowed: integers, names and + - * / ( ) (at character 14)
    >>> parse_dims("3xI")
    Traceback (most recent call last):
    ...
    layercalc.errors.ParseError: dims '3xI': 'I' is a reserved name: SymPy prints a constant or a function by that name; choose another (H, W, C, L, ...) (at character 3)
    """
    if not isinstance(text, str):
        raise ParseError(f"{what} (={show(text)}) must be a string (got "
                         f"{type(text).__name__}); pass sizes as a tuple directly")
    if len(text) > MAX_TEXT:
        raise ParseError(f"{what}: {len(text)} characters of text (at most {MAX_TEXT})")
    if text.strip() == "":
        raise ParseError(f"{what} {show(text)}: empty; expected sizes such as 3x224x224")
    sep = "," if "," in text else "x"
    out: list[Dim] = []
    start = 0
    for entry in text.split(sep):
        value = _Parser(text, entry, start, what).parse()
        try:
            out.append(as_dim(value, what, "size", error=LayerSpecError))
        except LayerSpecError as e:
            shown = "" if show(value) == entry.strip() else f" (={show(value)})"
            requirement = e.problem.split(") ", 1)[1]
            raise ParseError(f"{what} {show(text)}: entry {entry.strip()!r}{shown} "
                             f"{requirement}") from None
        start += len(entry) + 1
    return tuple(out)
