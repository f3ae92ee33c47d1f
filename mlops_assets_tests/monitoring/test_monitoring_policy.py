"""The retraining policy, table-driven: N of M, latest required, cooldown, rows, caps."""

from datetime import UTC, datetime, timedelta

import pytest

from mlops_assets.config.monitoring import RetrainingPolicy
from mlops_assets.errors import MonitoringError
from mlops_assets.monitoring.policy import WindowVerdict, decide_retraining
from mlops_assets.monitoring.schema import DriftResult

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
POLICY = RetrainingPolicy(
    violations_required=2,
    window_count=3,
    require_latest=True,
    cooldown_hours=24,
    min_new_rows=1_000,
    max_retrains=2,
    max_retrains_period_days=7,
)


def windows(pattern: str, perf: str | None = None) -> list[WindowVerdict]:
    """'D' = drift, '.' = clean; perf: 'P' = degraded, '.' = ok, '?' = no labels."""
    out = []
    for i, flag in enumerate(pattern):
        degraded = None if perf is None or perf[i] == "?" else perf[i] == "P"
        out.append(
            WindowVerdict(
                window=f"2026-03-0{i + 1}",
                drift_detected=flag == "D",
                performance_degraded=degraded,
                drift_share=0.6 if flag == "D" else 0.1,
                n_rows=5_000,
            )
        )
    return out


CASES = [
    # id, history, policy overrides, last retrain hours ago, retrains in period, new rows,
    # expected retrain, expected blockers, text expected in the reason
    ("two_of_three", windows("D.D"), {}, None, 0, 5_000, True, [], "2 of the last 3"),
    ("one_of_three", windows("..D"), {}, None, 0, 5_000, False, [], "2 of 3 are required"),
    ("latest_clean", windows("DD."), {}, None, 0, 5_000, False, [], "latest window 2026-03-03"),
    (
        "latest_not_required",
        windows("DD."),
        {"require_latest": False},
        None,
        0,
        5_000,
        True,
        [],
        "2 of the last 3",
    ),
    ("only_last_m_count", windows("DD..D"), {}, None, 0, 5_000, False, [], "1 of the last 3"),
    ("cooldown", windows(".DD"), {}, 5.0, 0, 5_000, False, ["cooldown"], "5.0 h ago"),
    ("cooldown_over", windows(".DD"), {}, 30.0, 0, 5_000, True, [], "2 of the last 3"),
    (
        "too_few_rows",
        windows(".DD"),
        {},
        None,
        0,
        999,
        False,
        ["min_new_rows"],
        "only 999 new rows",
    ),
    (
        "max_retrains",
        windows(".DD"),
        {},
        None,
        2,
        5_000,
        False,
        ["max_retrains"],
        "2 retrains already",
    ),
    (
        "all_blockers",
        windows(".DD"),
        {},
        1.0,
        5,
        10,
        False,
        ["cooldown", "min_new_rows", "max_retrains"],
        "blocked",
    ),
    (
        "performance_trigger",
        windows("...", "P.P"),
        {},
        None,
        0,
        5_000,
        True,
        [],
        "performance violated",
    ),
    (
        "drift_only_trigger",
        windows("...", "PPP"),
        {"triggers": ["drift"]},
        None,
        0,
        5_000,
        False,
        [],
        "0 of the last 3",
    ),
    (
        "no_labels_is_not_a_violation",
        windows("...", "???"),
        {},
        None,
        0,
        5_000,
        False,
        [],
        "0 of the last 3",
    ),
    ("fewer_windows_than_m", windows("DD"), {}, None, 0, 5_000, True, [], "2 of the last 2"),
    ("empty_history", [], {}, None, 0, 5_000, False, [], "No monitoring window"),
]


@pytest.mark.parametrize(
    ("history", "overrides", "hours_ago", "in_period", "new_rows", "retrain", "blockers", "text"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_retraining_decision(
    history: list[WindowVerdict],
    overrides: dict[str, object],
    hours_ago: float | None,
    in_period: int,
    new_rows: int,
    retrain: bool,
    blockers: list[str],
    text: str,
) -> None:
    policy = POLICY.model_copy(update=overrides)
    last = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    decision = decide_retraining(history, policy, NOW, last, in_period, new_rows)
    assert decision.retrain is retrain, decision.reason
    assert decision.blocked_by == blockers
    assert text in decision.reason
    assert decision.reason.endswith(".")
    assert decision.windows_considered == [w.window for w in history[-3:]]


def test_cooldown_reports_when_retraining_is_allowed_again() -> None:
    last = NOW - timedelta(hours=5)
    decision = decide_retraining(windows(".DD"), POLICY, NOW, last, 0, 5_000)
    assert decision.next_allowed_at == last + timedelta(hours=24)
    assert decision.violated_windows == ["2026-03-02", "2026-03-03"]


def test_naive_datetimes_and_duplicate_windows_are_rejected() -> None:
    with pytest.raises(MonitoringError, match="timezone-aware"):
        decide_retraining(windows("DD"), POLICY, datetime(2026, 3, 10), None, 0, 5_000)
    with pytest.raises(MonitoringError, match="more than once"):
        decide_retraining(windows("DD") + windows("D"), POLICY, NOW, None, 0, 5_000)


def test_window_verdict_from_results() -> None:
    drift = DriftResult(
        status="drift", drift_share=0.75, dataset_drift=True, n_reference=10, n_current=300,
        columns=[], share_threshold=0.5,
    )  # fmt: skip
    verdict = WindowVerdict.from_results("2026-03-01", drift)
    assert verdict.drift_detected and verdict.drift_share == 0.75 and verdict.n_rows == 300
    assert verdict.performance_degraded is None
    no_verdict = drift.model_copy(update={"status": "insufficient_data", "dataset_drift": False})
    assert not WindowVerdict.from_results("2026-03-02", no_verdict).drift_detected


def _window(day: str, drift: bool, version: str | None = "1") -> WindowVerdict:
    return WindowVerdict(window=day, drift_detected=drift, n_rows=5_000, model_version=version)


def _decide(history: list[WindowVerdict]) -> str:
    decision = decide_retraining(history, POLICY, NOW, None, 0, 50_000)
    return ("retrain: " if decision.retrain else "no: ") + decision.reason


def test_verdicts_about_a_replaced_champion_do_not_count() -> None:
    """v1 drifted on the 2nd and 3rd and was retrained; v2 is clean on the 4th and drifts on
    the 5th: one violation of v2, not two (the 3rd already caused the retrain of v1)."""
    history = [
        _window("2026-03-02", True),
        _window("2026-03-03", True),
        _window("2026-03-04", False, "2"),
        _window("2026-03-05", True, "2"),
    ]
    assert _decide(history).startswith("no: No retrain: drift or performance violated in 1 of")
    # the same days judged against one champion throughout: 2 of the last 3, a retrain
    same = [w.model_copy(update={"model_version": "2"}) for w in history]
    assert _decide(same).startswith("retrain: Retrain: drift violated in 2 of the last 3")


def test_the_last_windows_are_the_last_days_not_the_last_rows() -> None:
    """A violation from before two months without monitoring is not recent evidence."""
    history = [
        _window("2026-01-01", False),
        _window("2026-01-02", True),
        _window("2026-01-03", False),
        _window("2026-03-01", True),
    ]
    reason = _decide(history)
    assert reason.startswith("no: No retrain: drift or performance violated in 1 of the last 1")
    assert "2 day(s) of the last 3 had no verdict" in reason
    # consecutive days: the same rows are the last 3 windows
    daily = [_window(f"2026-03-0{i}", flag) for i, flag in enumerate([False, True, True], 1)]
    assert _decide(daily).startswith("retrain: Retrain: drift violated in 2 of the last 3")
