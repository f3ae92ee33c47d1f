"""The same transform functions on Polars and on Spark (classic local[2], then Spark Connect).

Inputs are simulated landing files with injected faults read as bronze; every transform runs
unchanged on ``nw.from_native(polars_df).lazy()`` and on ``nw.from_native(spark_df)``, and the
collected results must hold the same rows (strings, integers, booleans and UTC timestamps exactly,
floats within 1e-9). Each transform gets the same Polars-built input on both engines, so a
difference points at that transform and nothing upstream.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.config.tables import JoinTable
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines import collect_polars, lazy, to_spark
from mlops_assets.transforms.features import compute_features, point_in_time_join
from mlops_assets.transforms.gold import build_gold
from mlops_assets.transforms.quality import (
    REASON,
    RULE,
    count_failures,
    refine,
    table_rule_results,
)
from mlops_assets_tests.engines.engines_helpers import assert_same_rows

pytestmark = [pytest.mark.spark, pytest.mark.slow]
Spark = tuple[str, Any]


def _spark_lazy(spark: Spark, frame: pl.DataFrame) -> nw.LazyFrame[Any]:
    return nw.from_native(to_spark(frame, spark[1]))


@pytest.fixture(scope="module")
def silver(
    engines_bronze: dict[str, pl.DataFrame], engines_churn: UseCaseConfig
) -> dict[str, pl.DataFrame]:
    """Silver tables refined on Polars: the common input of everything downstream."""
    datasets = {d.name: d for d in engines_churn.datasets}
    return {
        name: collect_polars(refine(lazy(frame), datasets[name]).silver)
        for name, frame in engines_bronze.items()
    }


@pytest.mark.parametrize("dataset", ["customers", "labels"])
def test_refine_gives_the_same_silver_quarantine_counts_and_table_rules(
    engines_spark: Spark,
    engines_bronze: dict[str, pl.DataFrame],
    engines_churn: UseCaseConfig,
    dataset: str,
) -> None:
    ds = next(d for d in engines_churn.datasets if d.name == dataset)
    bronze = engines_bronze[dataset]
    expected = refine(lazy(bronze), ds)
    got = refine(_spark_lazy(engines_spark, bronze), ds)

    silver, quarantine = expected.silver.collect(), collect_polars(expected.quarantine)
    assert silver.shape[0] + quarantine.height == bronze.height
    if dataset == "customers":  # the faults really are in the batch
        rules = set(quarantine[RULE].to_list())
        assert {"duplicate_key", "schema_conformance", "customer_id_not_null"} <= rules
        assert quarantine[REASON].str.contains("line cut short").any()
        assert sum(c.failing for c in count_failures(expected, ds).values()) > 0
    got_silver = got.silver.collect()  # eager, as table rules need it (Arrow-backed for Spark)
    assert_same_rows(collect_polars(silver), collect_polars(got_silver))
    assert_same_rows(quarantine, collect_polars(got.quarantine))

    def counts(split: Any) -> dict[str, tuple[int, int]]:
        return {n: (c.failing, c.total) for n, c in count_failures(split, ds).items()}

    assert counts(got) == counts(expected)

    def verdicts(frame: nw.DataFrame[Any]) -> list[tuple[str, bool, str]]:
        as_of = datetime(2026, 1, 8, tzinfo=UTC)
        results = table_rule_results(frame, ds, as_of, raw_columns=bronze.width - 5)
        return [(r.rule.check_name, r.passed, r.observed) for r in results]

    assert len(verdicts(silver)) == (3 if dataset == "customers" else 0)
    assert verdicts(got_silver) == verdicts(silver)


def test_build_gold_gives_the_same_tables(
    engines_spark: Spark, silver: dict[str, pl.DataFrame], engines_churn: UseCaseConfig
) -> None:
    assert {t.type for t in engines_churn.gold} == {"aggregate", "latest", "join"}
    polars_in: dict[str, nw.LazyFrame[Any]] = {"silver.customers": lazy(silver["customers"])}
    spark_in = {"silver.customers": _spark_lazy(engines_spark, silver["customers"])}
    for table in engines_churn.gold:  # in dependency order: the join reads the other two
        expected = collect_polars(build_gold(table, polars_in))
        got_lazy = build_gold(table, spark_in)
        assert expected.height > 0
        assert_same_rows(expected, collect_polars(got_lazy))
        polars_in[f"gold.{table.name}"] = lazy(expected)
        spark_in[f"gold.{table.name}"] = got_lazy
        if isinstance(table, JoinTable):
            assert expected["charge_vs_contract_avg"].is_not_null().all()


def test_compute_features_gives_the_same_rows(
    engines_spark: Spark, silver: dict[str, pl.DataFrame], engines_churn: UseCaseConfig
) -> None:
    table = engines_churn.feature_tables[0]
    assert {f.type for f in table.features} == {"expression", "window"}
    source = silver["customers"]
    first = source[table.timestamp].min()
    assert isinstance(first, datetime)
    start = first + timedelta(days=3)
    end = start + timedelta(days=2)
    expected = collect_polars(compute_features(lazy(source), table, start=start, end=end))
    got = compute_features(_spark_lazy(engines_spark, source), table, start=start, end=end)
    assert expected.height > 20
    assert expected["observations_7d"].max() > 1  # type: ignore[operator]  # windows reach back
    assert_same_rows(expected, collect_polars(got))


def test_compute_features_gives_the_same_rows_for_rows_sharing_a_millisecond(
    engines_spark: Spark, silver: dict[str, pl.DataFrame], engines_churn: UseCaseConfig
) -> None:
    # Copies of rows moved a few microseconds: rows of one customer in one millisecond (read
    # after every row of their instant), and copies a whole window later (rows leaving exactly
    # at another row's instant); bounded and unbounded.
    table = engines_churn.feature_tables[0]
    source = silver["customers"]
    ts = table.timestamp
    crowded = pl.concat(
        [
            source,
            source.gather_every(5).with_columns(pl.col(ts) + timedelta(microseconds=300)),
            source.gather_every(7).with_columns(pl.col(ts) + timedelta(days=7)),
        ]
    )
    first = source[ts].min()
    assert isinstance(first, datetime)
    for start, end in [(first + timedelta(days=3), first + timedelta(days=9)), (None, None)]:
        expected = collect_polars(compute_features(lazy(crowded), table, start=start, end=end))
        got = compute_features(_spark_lazy(engines_spark, crowded), table, start=start, end=end)
        assert expected.height > 20
        assert expected["observations_7d"].max() > 1  # type: ignore[operator]
        assert_same_rows(expected, collect_polars(got))


@pytest.mark.parametrize(("label_ts", "max_age"), [("event_ts", None), ("label_ts", 1)])
def test_point_in_time_join_gives_the_same_rows(
    engines_spark: Spark,
    silver: dict[str, pl.DataFrame],
    engines_churn: UseCaseConfig,
    label_ts: str,
    max_age: int | None,
) -> None:
    assert engines_churn.training_set is not None
    config = engines_churn.training_set.model_copy(
        update={"label_timestamp": label_ts, "max_feature_age_days": max_age}
    )
    table = engines_churn.feature_table(config.feature_table)
    features = collect_polars(compute_features(lazy(silver["customers"]), table))
    labels = silver["labels"]
    expected = collect_polars(point_in_time_join(lazy(labels), lazy(features), config, table))
    got = point_in_time_join(
        _spark_lazy(engines_spark, labels), _spark_lazy(engines_spark, features), config, table
    )
    assert expected.height == labels.height
    matched = expected["feature_ts"].is_not_null()
    assert 0 < matched.sum() < expected.height  # both matched and unmatched labels
    assert (expected.filter(matched)["feature_ts"] <= expected.filter(matched)[label_ts]).all()
    assert_same_rows(expected, collect_polars(got))
