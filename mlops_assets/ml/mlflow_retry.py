"""Bounded retries of MLflow calls: backoff between attempts, an overall deadline, a typed error.

The promotion, inference and deployment paths call the registry and tracking server through
:func:`call_with_retry`. A transient failure (connection refused or reset, a timeout, 429/503, a
locked SQLite store) is retried with exponential backoff until the attempts or the deadline run
out; then :class:`~mlops_assets.errors.MlflowUnavailableError` says MLflow is unreachable. Any
other failure (a missing model, a refused request) is not retried: the caller's own typed error
reports it.

MLflow's REST client retries on its own (7 times, backoff factor 2 by default: minutes against a
stopped server). While a call runs here, its per-request retries and timeout are bounded by the
policy (``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` / ``MLFLOW_HTTP_REQUEST_TIMEOUT``), unless the user
set those variables: then theirs win.
"""

import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.problems import scrub
from mlops_assets.errors import MlflowUnavailableError, MLOpsError

T = TypeVar("T")

_TRANSIENT_CODES = frozenset(
    {"TEMPORARILY_UNAVAILABLE", "RESOURCE_EXHAUSTED", "REQUEST_LIMIT_EXCEEDED", "DEADLINE_EXCEEDED"}
)
_TRANSIENT_TEXT = (
    "failed with exception",  # rest_utils: connection refused/reset, DNS, ...
    "failed with timeout exception",
    "max retries exceeded",
    "connection refused",
    "connection reset",
    "database is locked",
    "temporarily unavailable",
    "too many 503 error responses",
    "too many 429 error responses",
)
_HTTP_ENV = ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT")
_env_lock = threading.Lock()
_env_users = 0


class RetryPolicy(BaseModel):
    """How long MLflow calls are retried before MLflow is declared unreachable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=6, ge=1, le=1000, description="Attempts per call, the first too.")
    initial_backoff_s: float = Field(
        default=0.5, ge=0, description="Wait after the first failure; doubles after each one."
    )
    max_backoff_s: float = Field(default=8.0, ge=0, description="Longest wait between attempts.")
    deadline_s: float = Field(
        default=60.0, gt=0, description="No new attempt starts after this long (whole call)."
    )
    request_timeout_s: float = Field(
        default=15.0, gt=0, description="Timeout of one HTTP request to the MLflow server."
    )
    http_retries: int = Field(
        default=0, ge=0, le=10, description="MLflow's own per-request retries (ours are outside)."
    )

    def backoff(self, failures: int) -> float:
        """The wait after the ``failures``-th consecutive failure."""
        return float(min(self.max_backoff_s, self.initial_backoff_s * 2 ** (failures - 1)))


DEFAULT_POLICY = RetryPolicy()


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says MLflow is unreachable or overloaded right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MLOpsError):
            return False
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        if type(current).__module__.split(".")[0] in ("requests", "urllib3") and (
            "Connection" in type(current).__name__ or "Timeout" in type(current).__name__
        ):
            return True
        if str(getattr(current, "error_code", "")) in _TRANSIENT_CODES:
            return True
        text = str(current).lower()
        if any(marker in text for marker in _TRANSIENT_TEXT):
            return True
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def bounded_http(policy: RetryPolicy) -> Iterator[None]:
    """MLflow's per-request retries and timeout bounded by ``policy`` (user-set values win)."""
    global _env_users
    with _env_lock:
        if _env_users == 0:
            wanted = {
                _HTTP_ENV[0]: str(policy.http_retries),
                _HTTP_ENV[1]: str(max(1, round(policy.request_timeout_s))),
            }
            _set_defaults(wanted)
        _env_users += 1
    try:
        yield
    finally:
        with _env_lock:
            _env_users -= 1
            if _env_users == 0:
                _restore()


_saved: dict[str, str | None] = {}


def _set_defaults(wanted: Mapping[str, str]) -> None:
    _saved.clear()
    for key, value in wanted.items():
        if key not in os.environ:
            _saved[key] = None
            os.environ[key] = value


def _restore() -> None:
    for key in _saved:
        os.environ.pop(key, None)
    _saved.clear()


def call_with_retry(
    what: str,
    fn: Callable[[], T],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    target: str,
    context: Mapping[str, object] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``fn()``, retried while it fails transiently, within ``policy``'s attempts and deadline.

    Args:
        what: the operation, for the error ("reading @champion of churn_model").
        target: the tracking or registry URI (said in the error, never credentials).

    Raises:
        MlflowUnavailableError: every attempt failed transiently, or the deadline passed.
        Whatever ``fn`` raises for a non-transient failure (not retried).
    """
    start = time.monotonic()
    failures = 0
    with bounded_http(policy):
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                failures += 1
                elapsed = time.monotonic() - start
                wait = policy.backoff(failures)
                if failures >= policy.attempts or elapsed + wait >= policy.deadline_s:
                    cause = scrub(redact_uri(_first_line(exc)))
                    raise MlflowUnavailableError(
                        f"MLflow is unreachable: {what} failed {failures} time(s) over "
                        f"{elapsed:.1f} s ({type(exc).__name__}: {cause})",
                        context={
                            **dict(context or {}),
                            "mlflow_uri": redact_uri(target),
                            "attempts": failures,
                            "deadline_s": policy.deadline_s,
                        },
                        fix="start or reach the MLflow tracking server (check the URI, network "
                        "and credentials), then re-run the step",
                    ) from exc
                sleep(wait)


def redact_uri(uri: str) -> str:
    """``uri`` without credentials (``https://user:token@host`` -> ``https://***@host``)."""
    return re.sub(r"(?<=://)[^/@\s]+@", "***@", uri)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
