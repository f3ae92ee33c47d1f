"""Random strings matching a simple regular expression, drawn position by position (vectorised).

Supported: anchors `^ $`, literals and escapes (`\\.`, `\\-`), classes `[A-Z0-9_]` (with ranges and
`^` negation over printable ASCII), `\\d \\w \\s .`, groups with alternation `(a|b)`, and the
quantifiers `{n}`, `{n,m}`, `?`, `*`, `+` (open repeats are drawn from 0-3 / 1-3 times). Anything
else raises ConfigError: pass a `--source` holding real values instead.
"""

import string
from dataclasses import dataclass

import numpy as np
import polars as pl

from mlops_assets.errors import ConfigError

_PRINTABLE = [c for c in string.printable if c not in "\t\n\r\x0b\x0c"]
_CLASSES = {
    "d": list(string.digits),
    "w": list(string.ascii_letters + string.digits + "_"),
    "s": [" "],
}
_OPEN_MAX = 3


@dataclass(frozen=True)
class Atom:
    """One position: a choice of characters, or of alternative sequences, repeated lo..hi times."""

    chars: tuple[str, ...] = ()
    alternatives: tuple[tuple["Atom", ...], ...] = ()
    lo: int = 1
    hi: int = 1


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def fail(self, why: str) -> ConfigError:
        return ConfigError(
            f"cannot synthesize values for the pattern {self.text!r}: {why}",
            context={"pattern": self.text, "position": self.pos},
            fix="pass --source with real values for this column, or simplify the pattern",
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def sequence(self, stop: str) -> tuple[Atom, ...]:
        atoms: list[Atom] = []
        while self.peek() and self.peek() not in stop:
            char = self.take()
            if char in "^$":
                continue
            atoms.append(self.quantified(self.atom(char)))
        return tuple(atoms)

    def atom(self, char: str) -> Atom:
        if char == "\\":
            escaped = self.take()
            return Atom(chars=tuple(_CLASSES.get(escaped, [escaped])))
        if char == ".":
            return Atom(chars=tuple(string.ascii_letters + string.digits))
        if char == "[":
            return Atom(chars=self.char_class())
        if char == "(":
            if self.peek() == "?":
                if self.text[self.pos : self.pos + 2] != "?:":
                    raise self.fail("look-around and named groups are not supported")
                self.pos += 2
            branches = [self.sequence("|)")]
            while self.peek() == "|":
                self.take()
                branches.append(self.sequence("|)"))
            if self.take() != ")":
                raise self.fail("unbalanced parenthesis")
            return Atom(alternatives=tuple(branches))
        if char in "*+?{|)":
            raise self.fail(f"unexpected {char!r}")
        return Atom(chars=(char,))

    def char_class(self) -> tuple[str, ...]:
        negated = self.peek() == "^"
        if negated:
            self.take()
        chosen: list[str] = []
        while self.peek() and (self.peek() != "]" or not chosen):
            char = self.take()
            if char == "\\":
                chosen.extend(_CLASSES.get(self.peek(), [self.peek()]))
                self.take()
            elif self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.take()
                end = self.take()
                chosen.extend(chr(c) for c in range(ord(char), ord(end) + 1))
            else:
                chosen.append(char)
        if self.take() != "]":
            raise self.fail("unterminated character class")
        if negated:
            chosen = [c for c in _PRINTABLE if c not in set(chosen) and c.isalnum()]
        if not chosen:
            raise self.fail("empty character class")
        return tuple(dict.fromkeys(chosen))

    def quantified(self, atom: Atom) -> Atom:
        char = self.peek()
        bounds = {"?": (0, 1), "*": (0, _OPEN_MAX), "+": (1, _OPEN_MAX)}
        if char in bounds:
            self.take()
            lo, hi = bounds[char]
        elif char == "{":
            self.take()
            body = ""
            while self.peek() and self.peek() != "}":
                body += self.take()
            if self.take() != "}":
                raise self.fail("unterminated {n,m}")
            first, sep, last = body.partition(",")
            try:
                lo = int(first)
                hi = lo if not sep else (int(last) if last else lo + _OPEN_MAX)
            except ValueError as exc:
                raise self.fail(f"bad repetition {{{body}}}") from exc
        else:
            return atom
        return Atom(chars=atom.chars, alternatives=atom.alternatives, lo=lo, hi=hi)


def parse_pattern(pattern: str) -> tuple[Atom, ...]:
    """The atoms of `pattern`; ConfigError on what this sampler does not support."""
    parser = _Parser(pattern)
    atoms = parser.sequence("")
    if parser.peek():
        raise parser.fail(f"unexpected {parser.peek()!r}")
    return atoms


def _draw(atoms: tuple[Atom, ...], n: int, rng: np.random.Generator) -> pl.Series:
    parts = [pl.Series([""] * n, dtype=pl.String)]
    for atom in atoms:
        reps = rng.integers(atom.lo, atom.hi + 1, n)
        for k in range(atom.hi):
            if atom.alternatives:
                branch = rng.integers(0, len(atom.alternatives), n)
                piece = pl.Series([""] * n, dtype=pl.String)
                for b, alternative in enumerate(atom.alternatives):
                    drawn = _draw(alternative, n, rng)
                    piece = pl.select(
                        pl.when(pl.Series(branch == b)).then(drawn).otherwise(piece)
                    ).to_series()
            else:
                pool = np.array(atom.chars, dtype=object)
                piece = pl.Series(pool[rng.integers(0, len(pool), n)], dtype=pl.String)
            parts.append(
                pl.select(
                    pl.when(pl.Series(reps > k)).then(piece).otherwise(pl.lit(""))
                ).to_series()
            )
    return pl.select(pl.concat_str(parts)).to_series()


def sample_pattern(
    pattern: str, n: int, rng: np.random.Generator, unique: bool = False
) -> pl.Series:
    """`n` strings matching `pattern` (distinct ones when `unique`); ConfigError when impossible."""
    atoms = parse_pattern(pattern)
    if not unique:
        values = _draw(atoms, n, rng)
    else:
        values = pl.Series([], dtype=pl.String)
        for _ in range(8):
            more = _draw(atoms, max(2 * (n - values.len()), 16), rng)
            values = pl.concat([values, more]).unique(maintain_order=True)
            if values.len() >= n:
                break
        if values.len() < n:
            raise ConfigError(
                f"the pattern {pattern!r} allows fewer than {n:,} distinct values",
                context={"pattern": pattern, "found": values.len()},
                fix="widen the pattern, or lower --entities",
            )
        values = values.head(n)
    matches = values.str.contains(pattern)
    if not matches.all():
        bad = values.filter(~matches).head(3).to_list()
        raise ConfigError(
            f"cannot synthesize values for the pattern {pattern!r}",
            context={"pattern": pattern, "examples": bad},
            fix="pass --source with real values for this column, or simplify the pattern",
        )
    return values
