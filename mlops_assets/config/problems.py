"""Problems found by cross-checks, and how values are shown in error messages.

A model validator that finds problems deeper than itself (a rule's column, a feature's expression)
raises :class:`ConfigProblemsError`; the loader turns each :class:`Problem` into a line of the
ConfigError with the file, the line and the full key path. Values are always shown through
:func:`describe_value`: short, never a whole mapping, and masked when they look like a secret.
"""

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_SHOWN = 80
"""Longest value representation printed in an error message."""

# Prefixes of well-known credentials (Databricks, Slack, GitHub, GitLab, OpenAI-style, AWS, JWT).
_TOKEN_PREFIXES = (
    "dapi",
    "dkea",
    "dose",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxe",
    "xoxs-",
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "github_pat_",
    "glpat-",
    "sk-",
    "sk_live_",
    "AKIA",
    "ASIA",
    "eyJ",
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Problem:
    """One problem at ``loc`` (relative to the model that found it)."""

    loc: tuple[str | int, ...]
    message: str
    fix: str


class ConfigProblemsError(ValueError):
    """Raised by a model validator: the loader reports each problem at its own key path."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(
            "; ".join(f"{'.'.join(map(str, p.loc)) or '<root>'}: {p.message}" for p in problems)
        )


def did_you_mean(name: str, candidates: Iterable[str], *, what: str = "") -> str:
    """``did you mean `x`?`` plus the known names (in their order, shortened), for a fix text."""
    known = list(dict.fromkeys(candidates))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    listing = f"known {what}: {shown}" if what else f"known: {shown}"
    if close:
        return f"did you mean `{close[0]}`? ({listing})"
    return listing if known else "nothing is defined there yet"


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_like_secret(text: str) -> bool:
    """Whether ``text`` looks like a credential (token, key, URL with credentials)."""
    value = text.strip()
    if len(value) < 12 or any(c.isspace() for c in value):
        return False
    if value.startswith(_TOKEN_PREFIXES) or value.lower().startswith("bearer"):
        return True
    if "://" in value:
        return "@" in value or "?" in value or "token" in value.lower() or "hooks" in value
    if value.startswith(("/", "./", "../", "~")) or len(value) < 20:
        return False  # a path, or too short to be a random credential
    longest_run = max(len(run) for run in re.findall(r"[A-Za-z0-9]+", value) or [""])
    if longest_run < 16:
        return False  # words joined by `_`, `-` or `.`, not one random string
    digits = sum(c.isdigit() for c in value)
    mixed_case = any(c.islower() for c in value) and any(c.isupper() for c in value)
    random_looking = digits / len(value) >= 0.15 or (mixed_case and digits >= 2)
    return random_looking and any(c.isalpha() for c in value) and _entropy(value) >= 3.0


def looks_like_secret_not_name(text: str) -> bool:
    """Where a variable NAME is expected: a URL, a credential or random-looking text."""
    value = text.strip()
    if "://" in value or looks_like_secret(value):
        return True
    if not _ENV_NAME.match(value):
        return len(value) >= 16
    # Names are words joined by `_`: a long run of mixed letters and digits is not one.
    return len(value) >= 20 and "_" not in value and any(c.isdigit() for c in value)


def mask(text: str) -> str:
    """A secret shown safely: its first 4 characters and its length."""
    return f"'{text[:4]}****' ({len(text)} characters)"


def scrub(message: str) -> str:
    """``message`` with every secret-looking word masked (messages may quote a value)."""
    return _WORD.sub(lambda m: mask(m[0]) if looks_like_secret(m[0]) else m[0], message)


_WORD = re.compile(r"[^\s'\"`,;()\[\]{}]+")


def describe_value(value: object, *, secret: bool = False) -> str:
    """``value`` for an error message: short, masked when secret-like, mappings summarised."""
    if isinstance(value, str):
        if secret or looks_like_secret(value):
            return mask(value)
        shown = repr(value)
        return shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 3] + "..."
    if isinstance(value, dict):
        keys = [str(k) for k in value]
        listed = ", ".join(keys[:5]) + (", ..." if len(keys) > 5 else "")
        listed = listed if len(listed) <= MAX_SHOWN else listed[: MAX_SHOWN - 3] + "..."
        return f"a mapping with {len(keys)} key(s): {listed}" if keys else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item(s)"
    shown = repr(value)
    return shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 3] + "..."


def key_path(loc: Sequence[object]) -> str:
    """``datasets.0.rules.4`` (``<root>`` for the document itself)."""
    return ".".join(str(p) for p in loc) or "<root>"


def unknown_column(
    loc: tuple[str | int, ...],
    column: str,
    known: Sequence[str],
    table: str,
    expression: str | None = None,
) -> Problem:
    """``column`` is read at ``loc`` but ``table`` (the table read there) has no such column."""
    reader = f"expression {describe_value(expression)} reads" if expression else "reads"
    return Problem(
        loc,
        f"{reader} column `{column}`, which {table} does not have",
        did_you_mean(column, known, what=f"columns of {table}"),
    )
