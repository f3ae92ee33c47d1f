"""A small SQL expression language compiled to narwhals expressions.

Rules (``monthly_charges <= total_charges``), feature definitions (``total_charges / (tenure + 1)``)
and gold filters are written as SQL-like text in YAML. Parsing them ourselves, instead of handing
text to ``pl.sql_expr`` or ``F.expr``, keeps every transform engine-agnostic (Polars locally, Spark
on Databricks run the same narwhals expression) and lets config validation list the columns an
expression reads before any data is touched.

Supported: numbers, 'strings', TRUE/FALSE/NULL, columns (``name`` or ``"quoted name"``),
``+ - * / %``, comparisons ``= == != <> < <= > >=``, ``AND OR NOT``, ``IS [NOT] NULL``,
``[NOT] IN (...)``, ``[NOT] BETWEEN a AND b``, parentheses and the functions
``abs coalesce lower upper length log exp sqrt round``.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from mlops_assets.errors import ConfigError

if TYPE_CHECKING:  # narwhals is imported when an expression is compiled, not at config load
    import narwhals as nw

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<qid>\"[^\"]+\")"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|<>|!=|==|[-+*/%(),<>=]))"
)
_KEYWORDS = {"and", "or", "not", "is", "null", "in", "between", "true", "false"}
_FUNCTIONS = {"abs", "coalesce", "lower", "upper", "length", "log", "exp", "sqrt", "round"}
_ARITY: dict[str, tuple[int, int | None]] = {"coalesce": (2, None), "round": (1, 2)}  # else 1
MAX_TOKENS = 400
"""Longest expression, in tokens (bounds the parse tree walked recursively later)."""
MAX_NESTING = 40
"""Deepest nesting of parentheses, function calls, NOT and unary minus."""


@dataclass(frozen=True)
class Const:
    value: int | float | str | bool | None


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Node"


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class IsNull:
    operand: "Node"
    negated: bool


@dataclass(frozen=True)
class InList:
    operand: "Node"
    values: tuple["Node", ...]
    negated: bool


@dataclass(frozen=True)
class Between:
    operand: "Node"
    low: "Node"
    high: "Node"
    negated: bool


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple["Node", ...]


Node = Const | Column | Unary | Binary | IsNull | InList | Between | Call


def _short(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, start position) of every token."""
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None or match.end() == pos:
            bad = len(stripped) - len(stripped[pos:].lstrip())
            raise ConfigError(
                f"cannot parse expression {_short(text)} at position {bad}: unexpected "
                f"{stripped[bad : bad + 10]!r}",
                context={"expression": text, "position": bad},
                fix="use column names, numbers, 'strings', + - * /, comparisons, AND/OR/NOT, "
                "IS NULL, IN (...), BETWEEN",
            )
        kind = match.lastgroup or ""
        value, start = match.group(kind), match.start(kind)
        if kind == "id" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        tokens.append((kind, value, start))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        located = _tokenize(text)
        self.tokens = [(kind, value) for kind, value, _ in located]
        self.starts = [start for _, _, start in located]
        self.pos = 0
        self.depth = 0
        if len(located) > MAX_TOKENS:
            raise ConfigError(
                f"expression of {len(located)} tokens is too long (at most {MAX_TOKENS})",
                context={"expression": text[:80]},
                fix="split the logic into derived columns or several rules",
            )

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nested deeper than {MAX_NESTING} levels")

    def error(self, what: str, at: int | None = None) -> ConfigError:
        index = self.pos if at is None else at
        near = " ".join(v for _, v in self.tokens[index : index + 3]) or "end of expression"
        position = self.starts[index] if index < len(self.starts) else len(self.text.rstrip())
        return ConfigError(
            f"cannot parse expression {_short(self.text)} at position {position}: {what} "
            f"near {near!r}",
            context={"expression": self.text, "position": position},
            fix="check parentheses and operators; strings use single quotes",
        )

    def peek(self, kind: str, value: str | None = None, offset: int = 0) -> bool:
        if self.pos + offset >= len(self.tokens):
            return False
        k, v = self.tokens[self.pos + offset]
        return k == kind and (value is None or v == value)

    def take(self, kind: str, value: str | None = None) -> str:
        if not self.peek(kind, value):
            raise self.error(f"expected {value or kind}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def accept(self, kind: str, value: str | None = None) -> bool:
        if self.peek(kind, value):
            self.pos += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.or_expr()
        if self.pos != len(self.tokens):
            raise self.error("unexpected trailing text")
        return node

    def or_expr(self) -> Node:
        self.nested()
        node = self.and_expr()
        while self.accept("kw", "or"):
            node = Binary("or", node, self.and_expr())
        self.depth -= 1
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.accept("kw", "and"):
            node = Binary("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.accept("kw", "not"):
            self.nested()
            node = Unary("not", self.not_expr())
            self.depth -= 1
            return node
        return self.predicate()

    def predicate(self) -> Node:
        left = self.additive()
        if self.accept("kw", "is"):
            negated = self.accept("kw", "not")
            self.take("kw", "null")
            return IsNull(left, negated)
        negated = self.accept("kw", "not")
        if self.accept("kw", "in"):
            self.take("op", "(")
            values = [self.additive()]
            while self.accept("op", ","):
                values.append(self.additive())
            self.take("op", ")")
            return InList(left, tuple(values), negated)
        if self.accept("kw", "between"):
            low = self.additive()
            self.take("kw", "and")
            return Between(left, low, self.additive(), negated)
        if negated:
            raise self.error("expected IN or BETWEEN after NOT")
        for op in ("=", "==", "!=", "<>", "<", "<=", ">", ">="):
            if self.accept("op", op):
                return Binary({"==": "=", "<>": "!="}.get(op, op), left, self.additive())
        return left

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.peek("op", "+") or self.peek("op", "-"):
            op = self.take("op")
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.peek("op", "*") or self.peek("op", "/") or self.peek("op", "%"):
            op = self.take("op")
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("op", "-"):
            self.nested()
            node = Unary("-", self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        if self.peek("num"):
            text = self.take("num")
            return Const(float(text) if any(c in text for c in ".eE") else int(text))
        if self.peek("str"):
            return Const(self.take("str")[1:-1].replace("''", "'"))
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.accept("kw", word):
                return Const(value)
        if self.accept("op", "("):
            node = self.or_expr()
            self.take("op", ")")
            return node
        if self.peek("qid"):
            return Column(self.take("qid")[1:-1])
        if self.peek("id"):
            start = self.pos
            name = self.take("id")
            if self.accept("op", "("):
                if name.lower() not in _FUNCTIONS:
                    raise self.error(
                        f"unknown function {name!r} (known: {sorted(_FUNCTIONS)})", at=start
                    )
                args: list[Node] = []
                if not self.peek("op", ")"):
                    args.append(self.or_expr())
                    while self.accept("op", ","):
                        args.append(self.or_expr())
                self.take("op", ")")
                low, high = _ARITY.get(name.lower(), (1, 1))
                if len(args) < low or (high is not None and len(args) > high):
                    wanted = f"at least {low}" if high is None else f"{low} to {high}"
                    wanted = str(low) if high == low else wanted
                    raise self.error(
                        f"{name.lower()}() takes {wanted} argument(s), got {len(args)}", at=start
                    )
                return Call(name.lower(), tuple(args))
            return Column(name)
        raise self.error("expected a value, a column or '('")


@lru_cache(maxsize=512)
def parse_expression(text: str) -> Node:
    """Parse ``text`` into an expression tree; raises ConfigError with the position on failure."""
    if not text.strip():
        raise ConfigError("empty expression", fix="write a SQL expression such as `tenure >= 0`")
    return _Parser(text).parse()


def referenced_columns(node: Node) -> set[str]:
    """Every column an expression reads."""
    if isinstance(node, Column):
        return {node.name}
    if isinstance(node, Const):
        return set()
    if isinstance(node, Unary):
        return referenced_columns(node.operand)
    if isinstance(node, Binary):
        return referenced_columns(node.left) | referenced_columns(node.right)
    if isinstance(node, IsNull):
        return referenced_columns(node.operand)
    if isinstance(node, InList):
        return referenced_columns(node.operand).union(*(referenced_columns(v) for v in node.values))
    if isinstance(node, Between):
        return (
            referenced_columns(node.operand)
            | referenced_columns(node.low)
            | referenced_columns(node.high)
        )
    return set().union(*(referenced_columns(a) for a in node.args))


def _literal_value(node: Node) -> object:
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Const):
        value = node.operand.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    raise ConfigError(
        "IN (...) takes literal values only", fix="list constants, e.g. IN ('a', 'b')"
    )


def compile_node(node: Node) -> "nw.Expr":
    """Compile an expression tree to a narwhals expression."""
    import narwhals as nw

    if isinstance(node, Column):
        return nw.col(node.name)
    if isinstance(node, Const):
        return nw.lit(node.value)
    if isinstance(node, Unary):
        inner = compile_node(node.operand)
        return ~inner if node.op == "not" else -inner
    if isinstance(node, IsNull):
        expr = compile_node(node.operand).is_null()
        return ~expr if node.negated else expr
    if isinstance(node, InList):
        expr = compile_node(node.operand).is_in([_literal_value(v) for v in node.values])
        return ~expr if node.negated else expr
    if isinstance(node, Between):
        operand = compile_node(node.operand)
        expr = (operand >= compile_node(node.low)) & (operand <= compile_node(node.high))
        return ~expr if node.negated else expr
    if isinstance(node, Call):
        return _compile_call(node)
    left, right = compile_node(node.left), compile_node(node.right)
    ops: dict[str, Callable[[], nw.Expr]] = {
        "and": lambda: left & right,
        "or": lambda: left | right,
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: left / right,
        # x % 0 is null (Polars gives null, Spark's ANSI mode raises and fails the whole batch).
        "%": lambda: nw.when(right != 0).then(left % right),
        "=": lambda: left == right,
        "!=": lambda: left != right,
        "<": lambda: left < right,
        "<=": lambda: left <= right,
        ">": lambda: left > right,
        ">=": lambda: left >= right,
    }
    return ops[node.op]()


def _compile_call(node: Call) -> "nw.Expr":
    import narwhals as nw

    args = [compile_node(a) for a in node.args]
    arity = {"coalesce": None, "round": None}
    if node.name not in arity and len(args) != 1:
        raise ConfigError(f"{node.name}() takes exactly one argument", fix=f"write {node.name}(x)")
    if node.name == "abs":
        return args[0].abs()
    if node.name == "lower":
        return args[0].str.to_lowercase()
    if node.name == "upper":
        return args[0].str.to_uppercase()
    if node.name == "length":
        return args[0].str.len_chars()
    if node.name == "log":
        return args[0].log()
    if node.name == "exp":
        return args[0].exp()
    if node.name == "sqrt":
        return args[0].sqrt()
    if node.name == "round":
        digits = _literal_value(node.args[1]) if len(node.args) > 1 else 0
        if not isinstance(digits, int):
            raise ConfigError("round(x, n) needs an integer n", fix="write round(x, 2)")
        return args[0].round(digits)
    if len(args) < 2:
        raise ConfigError("coalesce() takes at least two arguments", fix="write coalesce(a, b)")
    out = args[0]
    for arg in args[1:]:
        out = nw.when(out.is_null()).then(arg).otherwise(out)
    return out


def compile_expression(text: str) -> "nw.Expr":
    """Parse and compile ``text`` to a narwhals expression."""
    return compile_node(parse_expression(text))
