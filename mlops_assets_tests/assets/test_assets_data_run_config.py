"""Run configuration of bronze, silver (audit only), gold and features on real Delta tables.

Each non-default value changes what the asset does and is recorded in its metadata; an invalid
value is rejected at launch, before any run or step exists.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from mlops_assets.assets.factory import build_data_assets
from mlops_assets.config.project import ProjectConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets_tests.assets.assets_helpers import (
    DAY,
    checks_by_name,
    exists,
    landing_file,
    local_resources,
    materializations,
    materialize_day,
    read_landing_text,
    step_error,
    table,
    version,
    write_landing,
)

BRONZE, SILVER = "churn/bronze/customers", "churn/silver/customers"
QUARANTINE = "churn/silver/customers_quarantine"
LATEST, KPIS = "churn/gold/customer_latest", "churn/gold/daily_contract_kpis"
BENCHMARK = "churn/gold/customer_charge_benchmark"
FEATURES = "churn/features/customer_features"
AS_OF = f"{DAY}T12:00:00"


@pytest.fixture
def churn(project: ProjectConfig) -> UseCaseConfig:
    return project.use_case("churn")


def _run(
    uc: UseCaseConfig,
    data_dir: Path,
    instance: dg.DagsterInstance,
    selection: list[str],
    ops: dict[str, dict[str, Any]] | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        build_data_assets(uc),
        partition_key=DAY,
        resources=local_resources(data_dir),
        instance=instance,
        selection=dg.AssetSelection.keys(*[dg.AssetKey.from_user_string(s) for s in selection]),
        run_config={"ops": {op: {"config": c} for op, c in (ops or {}).items()}},
        raise_on_error=False,
    )


_WATCHED: dict[str, int] = {}  # path -> times opened while watched (a real audit hook, below)


def _count_opens(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHED and isinstance(args[0], str | Path):
        path = str(args[0])
        if path in _WATCHED:
            _WATCHED[path] += 1


sys.addaudithook(_count_opens)  # hooks cannot be removed; it only counts while _WATCHED is set


def _add_late_file(data_dir: Path) -> int:
    """A second landing file of the day (five rows of the first one, re-stamped): its row count."""
    first = landing_file(data_dir, "customers")
    late = read_landing_text(first).head(5)
    write_landing(first.with_name("late_customers.csv"), late)
    return late.height


def test_bronze_new_files_keeps_the_rows_already_ingested(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    first = _run(churn, clean_data_dir, dagster_instance, [BRONZE])
    assert first.success, step_error(first)
    before = table(clean_data_dir, BRONZE, DAY)
    late_rows = _add_late_file(clean_data_dir)
    # the ingested file is damaged since: `new` must not open it (read, it would be rejected)
    ingested = landing_file(clean_data_dir, "customers")
    original = ingested.read_bytes()
    ingested.write_bytes(b"\x1f\x8b damaged since it was ingested")

    _WATCHED.update({str(ingested): 0, str(ingested.with_name("late_customers.csv")): 0})
    try:
        result = _run(
            churn,
            clean_data_dir,
            dagster_instance,
            [BRONZE],
            {"churn__bronze__customers": {"landing_files": "new"}},
        )
        opens = dict(_WATCHED)
    finally:
        _WATCHED.clear()
    assert result.success, step_error(result)
    # the ingested file is never opened; the late one is (its head and end are read apart from
    # the parse, which Polars does in place without Python's open)
    assert opens[str(ingested)] == 0, opens
    assert opens[str(ingested.with_name("late_customers.csv"))] >= 1, opens
    after = table(clean_data_dir, BRONZE, DAY)
    assert after.height == before.height + late_rows
    by_batch = dict(after.group_by("_batch_id").len().iter_rows())
    assert by_batch == {first.run_id: before.height, result.run_id: late_rows}
    meta = materializations(result)[BRONZE].metadata
    assert meta["run_config/landing_files"].value == "new"
    assert meta["file_count"].value == 2
    files = table(clean_data_dir, "churn/bronze/customers_landing_files", DAY)
    kept = files.filter(pl.col("reason").str.contains("kept from batch"))
    assert kept.height == 1 and first.run_id in kept["reason"][0]
    assert set(files["status"]) == {"ingested"}, "the damaged, already ingested file was read"
    assert checks_by_name(result, BRONZE)["landing_files_ingested"].passed

    ingested.write_bytes(original)
    again = _run(churn, clean_data_dir, dagster_instance, [BRONZE])  # default: reprocess all
    assert again.success, step_error(again)
    reread = table(clean_data_dir, BRONZE, DAY)
    assert set(reread["_batch_id"]) == {again.run_id} and reread.height == after.height
    assert "run_config" not in materializations(again)[BRONZE].metadata


def _observation(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (observation,) = [
        e.asset_observation_data.asset_observation
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
    ]
    return {k: v.value for k, v in observation.metadata.items()}


def _audit(uc: UseCaseConfig, data_dir: Path, instance: dg.DagsterInstance) -> Any:
    ops = {"churn_silver_customers": {"audit_only": True}}
    return _run(uc, data_dir, instance, [BRONZE, SILVER, QUARANTINE], ops)


def test_silver_audit_only_checks_everything_and_publishes_nothing(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    result = _audit(churn, clean_data_dir, dagster_instance)
    assert result.success, step_error(result)
    assert not exists(clean_data_dir, SILVER) and not exists(clean_data_dir, QUARANTINE)
    assert SILVER not in materializations(result)
    checks = checks_by_name(result, SILVER)
    assert checks["rows_accounted"].passed and checks["customer_id_not_null"].passed
    meta = _observation(result)
    assert meta["audit_only"] is True and meta["published"] is False
    assert meta["would_publish"] is True
    assert meta["staged_rows"] + meta["quarantined_rows"] == meta["bronze_rows"] > 0
    assert meta["run_config/audit_only"] == "True"
    # the audited partition is kept in the run's staging table, for inspection
    staged = pl.read_delta(str(meta["staging_table"]))
    assert staged.height == meta["staged_rows"]


def test_a_failed_audit_only_run_publishes_nothing_and_says_why(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    path = landing_file(clean_data_dir, "customers")
    raw = read_landing_text(path)
    write_landing(path, raw.with_columns(pl.lit(None, pl.String).alias("customer_id")))
    result = _audit(churn, clean_data_dir, dagster_instance)
    assert not result.success  # a failed blocking check fails the step, as in a publishing run
    assert "customer_id_not_null" in step_error(result)
    assert not exists(clean_data_dir, SILVER) and not exists(clean_data_dir, QUARANTINE)
    assert not checks_by_name(result, SILVER)["customer_id_not_null"].passed
    meta = _observation(result)
    assert meta["would_publish"] is False and meta["published"] is False
    assert "customer_id_not_null" in meta["blocking_failures"]
    assert meta["bronze_rows"] == raw.height


def test_audit_only_leaves_a_published_partition_untouched(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    published = materialize_day(
        churn, clean_data_dir, DAY, dagster_instance, [BRONZE, SILVER, QUARANTINE]
    )
    assert published.success, step_error(published)
    silver_version = version(clean_data_dir, SILVER)
    result = _run(
        churn,
        clean_data_dir,
        dagster_instance,
        [SILVER, QUARANTINE],
        {"churn_silver_customers": {"audit_only": True}},
    )
    assert result.success, step_error(result)
    assert version(clean_data_dir, SILVER) == silver_version
    assert all(c.passed for c in checks_by_name(result, SILVER).values())


def test_gold_as_of_recomputes_the_day_as_it_stood(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    ingested = materialize_day(
        churn, clean_data_dir, DAY, dagster_instance, [BRONZE, SILVER, QUARANTINE]
    )
    assert ingested.success, step_error(ingested)
    silver = table(clean_data_dir, SILVER, DAY)
    cut = datetime.fromisoformat(AS_OF).replace(tzinfo=UTC)
    expected = silver.filter(pl.col("event_ts") <= cut)
    assert 0 < expected.height < silver.height, "the fixture day must straddle the cut-off"

    config = {"as_of": AS_OF}
    ops = {"churn__gold__customer_latest": config, "churn__gold__daily_contract_kpis": config}
    result = _run(churn, clean_data_dir, dagster_instance, [LATEST, KPIS], ops)
    assert result.success, step_error(result)
    kpis = table(clean_data_dir, KPIS, DAY)
    assert kpis["observations"].sum() == expected.height
    latest = table(clean_data_dir, LATEST, DAY)
    assert latest.height == expected["customer_id"].n_unique()
    assert latest["event_ts"].max() <= cut  # type: ignore[operator]
    for key in (LATEST, KPIS):
        assert materializations(result)[key].metadata["run_config/as_of"].value == AS_OF


def test_gold_join_as_of_cuts_the_gold_input_that_carries_a_time(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    upstream = [BRONZE, SILVER, QUARANTINE, LATEST, KPIS, BENCHMARK]
    default = materialize_day(churn, clean_data_dir, DAY, dagster_instance, upstream)
    assert default.success, step_error(default)
    full = table(clean_data_dir, BENCHMARK, DAY)
    cut = datetime.fromisoformat(AS_OF).replace(tzinfo=UTC)
    kept = full.filter(pl.col("event_ts") <= cut)
    assert 0 < kept.height < full.height, "the fixture day must straddle the cut-off"

    op = "churn__gold__customer_charge_benchmark"
    alone = _run(churn, clean_data_dir, dagster_instance, [BENCHMARK], {op: {"as_of": AS_OF}})
    assert alone.success, step_error(alone)
    benchmark = table(clean_data_dir, BENCHMARK, DAY)
    assert sorted(benchmark["customer_id"]) == sorted(kept["customer_id"])
    assert materializations(alone)[BENCHMARK].metadata["run_config/as_of"].value == AS_OF

    # the whole chain as it stood: every customer seen by the cut-off, with that observation
    ops = {op.replace("/", "__"): {"as_of": AS_OF} for op in (LATEST, KPIS, BENCHMARK)}
    chain = _run(churn, clean_data_dir, dagster_instance, [LATEST, KPIS, BENCHMARK], ops)
    assert chain.success, step_error(chain)
    silver = table(clean_data_dir, SILVER, DAY).filter(pl.col("event_ts") <= cut)
    as_it_stood = table(clean_data_dir, BENCHMARK, DAY)
    assert as_it_stood.height == silver["customer_id"].n_unique() >= benchmark.height
    assert as_it_stood["event_ts"].max() <= cut  # type: ignore[operator]


def test_features_as_of_and_shorter_windows(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    ingested = materialize_day(
        churn, clean_data_dir, DAY, dagster_instance, [BRONZE, SILVER, QUARANTINE]
    )
    assert ingested.success, step_error(ingested)
    default = _run(churn, clean_data_dir, dagster_instance, [FEATURES])
    assert default.success, step_error(default)
    full = table(clean_data_dir, FEATURES, DAY)

    config = {"as_of": AS_OF, "window_days": {"observations_7d": 1}}
    result = _run(
        churn,
        clean_data_dir,
        dagster_instance,
        [FEATURES],
        {"churn__features__customer_features": config},
    )
    assert result.success, step_error(result)
    cut = table(clean_data_dir, FEATURES, DAY)
    stamp = datetime.fromisoformat(AS_OF).replace(tzinfo=UTC)
    assert cut.height == full.filter(pl.col("event_ts") < stamp).height > 0
    assert cut["event_ts"].max() < stamp  # type: ignore[operator]
    meta = materializations(result)[FEATURES].metadata
    assert meta["run_config/as_of"].value == AS_OF
    assert meta["run_config/window_days.observations_7d"].value == "1"


@pytest.mark.parametrize(
    ("op", "config", "message"),
    [
        ("churn__bronze__customers", {"landing_files": "some"}, "landing_files"),
        ("churn_silver_customers", {"audit_only": "maybe"}, "audit_only"),
        ("churn__gold__customer_latest", {"as_off": AS_OF}, "as_off"),
        (
            "churn__features__customer_features",
            {"window_days": {"observations_30d": 3}},
            "observations_30d",
        ),
    ],
)
def test_invalid_data_config_is_rejected_before_any_run_exists(
    churn: UseCaseConfig,
    clean_data_dir: Path,
    dagster_instance: dg.DagsterInstance,
    op: str,
    config: dict[str, Any],
    message: str,
) -> None:
    everything = [BRONZE, SILVER, QUARANTINE, LATEST, KPIS, FEATURES]
    with pytest.raises(dg.DagsterInvalidConfigError, match=message):
        dg.materialize(
            build_data_assets(churn),
            partition_key=DAY,
            resources=local_resources(clean_data_dir),
            instance=dagster_instance,
            selection=dg.AssetSelection.keys(
                *[dg.AssetKey.from_user_string(s) for s in everything]
            ),
            run_config={"ops": {op: {"config": config}}},
        )
    assert dagster_instance.get_runs() == [], "a rejected launch creates no run, so no step"
    assert not (clean_data_dir / "lakehouse").exists()


@pytest.mark.parametrize(
    ("op", "config", "message"),
    [
        ("churn__gold__customer_latest", {"as_of": "yesterday noon"}, "ISO-8601"),
        (
            "churn__features__customer_features",
            {"window_days": {"observations_7d": 30}},
            "less than or equal to 7",
        ),
    ],
)
def test_out_of_range_values_fail_before_the_step_reads_data(
    churn: UseCaseConfig,
    clean_data_dir: Path,
    dagster_instance: dg.DagsterInstance,
    op: str,
    config: dict[str, Any],
    message: str,
) -> None:
    ingested = materialize_day(
        churn, clean_data_dir, DAY, dagster_instance, [BRONZE, SILVER, QUARANTINE]
    )
    assert ingested.success, step_error(ingested)
    key = LATEST if "gold" in op else FEATURES
    result = _run(churn, clean_data_dir, dagster_instance, [key], {op: config})
    assert not result.success
    assert message in step_error(result)
    assert not exists(clean_data_dir, key)
