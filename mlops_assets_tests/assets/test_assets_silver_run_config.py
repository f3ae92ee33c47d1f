"""Silver run configuration: a per-rule threshold override for one run, rejected when invalid."""

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
    landing_file,
    local_resources,
    materializations,
    read_landing_text,
    step_error,
    table,
    write_landing,
)

SILVER = "churn/silver/customers"
SELECTION = ["churn/bronze/customers", SILVER, "churn/silver/customers_quarantine"]
SILVER_OP = "churn_silver_customers"
RULE = "customer_id_not_null"


@pytest.fixture
def churn(project: ProjectConfig) -> UseCaseConfig:
    return project.use_case("churn")


def _run(
    uc: UseCaseConfig, data_dir: Path, instance: dg.DagsterInstance, config: dict[str, Any]
) -> dg.ExecuteInProcessResult:
    keys = [dg.AssetKey.from_user_string(s) for s in SELECTION]
    return dg.materialize(
        build_data_assets(uc),
        partition_key=DAY,
        resources=local_resources(data_dir),
        instance=instance,
        selection=dg.AssetSelection.keys(*keys),
        run_config={"ops": {SILVER_OP: {"config": config}}},
        raise_on_error=False,
    )


def _lose_ids(data_dir: Path) -> pl.DataFrame:
    """30 % of the customer ids of the day blanked: far above the 5 % the YAML tolerates."""
    path = landing_file(data_dir, "customers")
    raw = read_landing_text(path)
    broken = raw.with_columns(
        pl.when(pl.int_range(pl.len()) % 10 < 3)
        .then(None)
        .otherwise(pl.col("customer_id"))
        .alias("customer_id")
    )
    write_landing(path, broken)
    return broken


def test_rule_override_with_reason_changes_the_threshold_and_is_recorded(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    broken = _lose_ids(clean_data_dir)
    override = {"rule": RULE, "max_failure_fraction": 0.5, "reason": "known export bug, ticket 42"}
    result = _run(churn, clean_data_dir, dagster_instance, {"rule_overrides": [override]})
    assert result.success, step_error(result)
    check = checks_by_name(result, SILVER)[RULE]
    assert check.passed
    assert check.metadata["max_failure_fraction"].value == 0.5
    nulls = broken["customer_id"].null_count()
    assert table(clean_data_dir, SILVER, DAY).height == broken.height - nulls
    meta = materializations(result)[SILVER].metadata
    assert "known export bug" in str(meta["run_config/rule_overrides"].value)
    assert "rule_overrides" in str(meta["run_config"].value)


def test_without_override_the_yaml_threshold_blocks(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    _lose_ids(clean_data_dir)
    result = _run(churn, clean_data_dir, dagster_instance, {})
    assert not result.success
    assert not checks_by_name(result, SILVER)[RULE].passed


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"rule": "customer_id_not_nul", "max_failure_fraction": 0.5, "reason": "r"}, "rule"),
        ({"rule": RULE, "max_failure_fraction": 0.5}, "reason"),
    ],
)
def test_invalid_override_is_rejected_at_launch(
    churn: UseCaseConfig,
    clean_data_dir: Path,
    dagster_instance: dg.DagsterInstance,
    override: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(dg.DagsterInvalidConfigError, match=message):
        dg.materialize(
            build_data_assets(churn),
            partition_key=DAY,
            resources=local_resources(clean_data_dir),
            instance=dagster_instance,
            selection=dg.AssetSelection.keys(*[dg.AssetKey.from_user_string(s) for s in SELECTION]),
            run_config={"ops": {SILVER_OP: {"config": {"rule_overrides": [override]}}}},
        )
    assert not (clean_data_dir / "lakehouse").exists(), "nothing may run before validation"


def test_silver_schema_lists_the_overrides_field(churn: UseCaseConfig) -> None:
    (silver,) = [
        a for a in build_data_assets(churn) if dg.AssetKey.from_user_string(SILVER) in a.keys
    ]
    config_field = silver.op.config_field
    assert config_field is not None
    field = config_field.config_type.fields["rule_overrides"]  # type: ignore[attr-defined]
    assert "reason" in field.description
    assert not field.is_required  # empty: the YAML thresholds
