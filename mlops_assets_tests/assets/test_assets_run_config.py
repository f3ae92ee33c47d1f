"""Run configuration of the asset families: schema from the YAML, rejected at launch, recorded."""

from pathlib import Path
from typing import Any, get_args, get_origin

import dagster as dg
import pytest
from pydantic import BaseModel, ValidationError

from mlops_assets.assets.keys import asset_key, tables
from mlops_assets.assets.ml.run_config import evaluation_run_config, training_run_config
from mlops_assets.assets.run_config import RUN_CONFIG, run_config_metadata, run_config_tags
from mlops_assets.assets.run_config_reference import run_config_reference_markdown
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    EVALUATION_KEY,
    MODEL_KEY,
    MODEL_OP,
    defs_for,
    project_for,
)


@pytest.fixture(scope="module")
def uc(tmp_path_factory: pytest.TempPathFactory) -> UseCaseConfig:
    return project_for(tmp_path_factory.mktemp("rc") / "data").use_case("churn")


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    return defs_for(tmp_path_factory.mktemp("rc_defs") / "data")


def _fields(defs: dg.Definitions, key: dg.AssetKey) -> dict[str, Any]:
    config_field = defs.resolve_assets_def(key).op.config_field
    assert config_field is not None, f"{key.to_user_string()} takes no run config"
    fields: dict[str, Any] = config_field.config_type.fields  # type: ignore[attr-defined]
    return fields


def test_training_schema_lists_each_estimator_parameter_with_its_yaml_default(
    defs: dg.Definitions, uc: UseCaseConfig
) -> None:
    assert uc.model is not None
    fields = _fields(defs, MODEL_KEY)
    assert {"params", "split", "reason", "trigger_window"} <= set(fields)
    assert "search" not in fields, "the YAML has no model.search: nothing to switch on"
    for name in ("params", "split", "reason"):
        assert fields[name].description, f"{name} has no description"
    assert fields["split"].default_value == {"as_configured": {}}
    assert str(uc.model.split.seed) in fields["split"].description
    reseed = fields["split"].config_type.fields["reseed"].config_type.fields
    assert reseed["seed"].is_required and reseed["reason"].is_required
    params = fields["params"].config_type.fields
    for name, value in uc.model.flavor.params.items():
        assert params[name].default_value == value, name
        assert "YAML" in params[name].description
    # a constructor parameter the YAML leaves alone shows the estimator's default
    assert params["min_samples_leaf"].default_value == 20
    assert "estimator default" in params["min_samples_leaf"].description


def test_evaluation_schema_defaults_to_the_yaml_gate_mode(
    defs: dg.Definitions, uc: UseCaseConfig
) -> None:
    assert uc.model is not None
    fields = _fields(defs, EVALUATION_KEY)
    assert fields["gate"].default_value == {uc.model.gates.mode: {}}
    assert "disabled" in fields["gate"].description
    disabled = fields["gate"].config_type.fields["disabled"].config_type.fields
    assert disabled["reason"].is_required and disabled["reason"].description
    assert fields["challenger_version"].default_value == ""


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"params": {"max_itr": 5}}, 'unexpected config entry "max_itr"'),
        ({"params": {"max_iter": "many"}}, "max_iter"),
        ({"temperature": 1}, 'unexpected config entry "temperature"'),
        ({"search": True}, 'unexpected config entry "search"'),
        ({"split": {"reseed": {"seed": 7}}}, 'Missing required config entry "reason"'),
        ({"split": {"reseed": {"reason": "r"}}}, 'Missing required config entry "seed"'),
    ],
)
def test_invalid_training_config_is_rejected_at_launch(
    defs: dg.Definitions, config: dict[str, Any], message: str
) -> None:
    job = defs.resolve_job_def("churn_training")
    with pytest.raises(dg.DagsterInvalidConfigError, match=message):
        job.execute_in_process(run_config={"ops": {MODEL_OP: {"config": config}}})


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"lenient": {}}, "lenient"),
        ({"disabled": {}}, 'Missing required config entry "reason"'),
        ({"enabled": {}, "dry_run": {}}, "only specify a single field"),
    ],
)
def test_invalid_gate_is_rejected_at_launch(
    defs: dg.Definitions, uc: UseCaseConfig, gate: dict[str, Any], message: str
) -> None:
    job = defs.resolve_job_def("churn_training")
    op = "__".join(asset_key(tables(uc).evaluation).path)
    with pytest.raises(dg.DagsterInvalidConfigError, match=message):
        job.execute_in_process(run_config={"ops": {op: {"config": {"gate": gate}}}})


def test_disabling_the_gates_needs_a_reason(uc: UseCaseConfig) -> None:
    cls: Any = evaluation_run_config(uc)
    with pytest.raises(ValidationError, match="reason"):
        cls(gate={"disabled": {}})
    with pytest.raises(ValidationError, match="reason"):
        cls(gate={"disabled": {"reason": "  "}})
    allowed = cls(gate={"disabled": {"reason": "shadow model, promoted by hand"}})
    assert allowed.model().gates.mode == "disabled"
    assert cls(gate={"dry_run": {}}).model().gates.mode == "dry_run"
    assert run_config_tags(allowed)["mlops.run_config.gate.reason"].startswith("shadow")


def test_search_and_seed_rules(uc: UseCaseConfig) -> None:
    assert uc.model is not None and uc.model.search is None
    cls: Any = training_run_config(uc)
    with pytest.raises(ValidationError, match="search"):
        cls(search=True)
    with pytest.raises(ValidationError, match="reason"):
        cls(split={"reseed": {"seed": 7}})
    seeded = cls(split={"reseed": {"seed": 7, "reason": "variance of the held-out score"}})
    assert seeded.model().split.seed == 7
    assert cls().model().split.seed == uc.model.split.seed


def test_only_changed_values_are_overrides_and_recorded(uc: UseCaseConfig) -> None:
    cls = training_run_config(uc)
    assert cls().overrides() == {}
    assert run_config_metadata(cls()) == {}
    params_cls: Any = type(cls().params)
    config = cls(params=params_cls(max_iter=3, min_samples_leaf=50), reason="quick check")
    assert config.overrides() == {"max_iter": 3, "min_samples_leaf": 50}
    entries = run_config_metadata(config)
    assert entries[f"{RUN_CONFIG}/params.max_iter"].value == "3"
    assert entries[f"{RUN_CONFIG}/reason"].value == "quick check"
    assert "params.min_samples_leaf" in str(entries[RUN_CONFIG].value)
    assert run_config_tags(config)["mlops.run_config.params.max_iter"] == "3"


def test_schedule_passes_typed_training_config(defs: dg.Definitions, uc: UseCaseConfig) -> None:
    schedules = [s for s in defs.schedules or [] if s.name == "churn_retraining_schedule"]
    if not schedules:
        pytest.skip("the use case has no retraining schedule")
    job = defs.resolve_job_def("churn_training")
    (schedule,) = schedules
    assert isinstance(schedule, dg.ScheduleDefinition)
    with dg.DagsterInstance.ephemeral() as instance:
        tick = schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
    assert tick.run_requests, tick.skip_message
    run_config = tick.run_requests[0].run_config
    assert dg.validate_run_config(job, run_config)
    assert run_config["ops"][MODEL_OP]["config"]["reason"].startswith("periodic retraining")


def test_reference_markdown_lists_every_family_field(uc: UseCaseConfig, tmp_path: Path) -> None:
    text = run_config_reference_markdown(uc)
    for needle in ("#### training", "`params.max_iter`", "`split.reseed.seed`", "#### evaluation"):
        assert needle in text, needle
    for needle in ("`gate.disabled.reason`", "`serve.rollback.reason`", "`batch_size`"):
        assert needle in text, needle
    for needle in ("#### promotion", "`promotion.dry_run.reason`", "`expected_challenger`"):
        assert needle in text, needle
    for family in ("bronze `customers`", "gold `customer_latest`", "features `customer_features`"):
        assert f"#### {family}" in text, family
    assert "#### training set" in text


@pytest.mark.parametrize(
    ("key", "field", "default"),
    [
        (["churn", "inference", "predictions"], "alias", "champion"),
        (["churn", "serving", "endpoint"], "serve", {"champion": {}}),
        (["churn", "inference", "predictions"], "batch_size", 0),
        (["churn", "monitoring", "drift"], "render_report", True),
        (["churn", "monitoring", "drift"], "model_version", ""),
        (["churn", "monitoring", "performance"], "model_version", ""),
        (["churn", "models", "champion"], "promotion", {"enabled": {}}),
        (["churn", "models", "champion"], "expected_challenger", ""),
        (["churn", "gold", "customer_charge_benchmark"], "as_of", ""),
        (["housing", "gold", "property_vs_neighborhood"], "as_of", ""),
        (["churn", "silver", "customers"], "rule_overrides", []),
    ],
)
def test_serving_and_monitoring_schemas(
    defs: dg.Definitions, key: list[str], field: str, default: object
) -> None:
    fields = _fields(defs, dg.AssetKey(key))
    assert fields[field].default_value == default
    assert all(f.description for f in fields.values())


def test_every_asset_op_takes_typed_run_config_that_an_empty_launchpad_satisfies(
    defs: dg.Definitions,
) -> None:
    ops: dict[str, dict[str, Any]] = {}
    for key in defs.resolve_all_asset_keys():
        assets_def = defs.resolve_assets_def(key)
        if assets_def.is_executable and assets_def.op.name not in ops:
            ops[assets_def.op.name] = _fields(defs, key)
    assert {"churn__models__champion", "housing__models__champion"} <= set(ops)
    for op, fields in ops.items():
        assert fields, f"{op} has an empty run config"
        for name, field in fields.items():
            assert field.description, f"{op}.{name} has no description"
            assert not field.is_required, f"{op}.{name} is required: the launchpad can't be empty"


def test_drift_share_defaults_to_the_yaml(defs: dg.Definitions, uc: UseCaseConfig) -> None:
    fields = _fields(defs, dg.AssetKey(["churn", "monitoring", "drift"]))
    assert fields["drift_share"].default_value == uc.monitoring.drift.drift_share


@pytest.mark.parametrize(
    ("job", "op", "config", "message"),
    [
        ("churn_batch_inference", "churn__inference__predictions", {"alias": "best"}, "alias"),
        ("churn_deployment", "churn__serving__endpoint", {"roll_back": True}, "roll_back"),
        (
            "churn_deployment",
            "churn__serving__endpoint",
            {"serve": {"rollback": {}}},
            'Missing required config entry "reason"',
        ),
        (
            "churn_deployment",
            "churn__serving__endpoint",
            {"serve": {"version": {"version": "2", "reason": "r"}, "rollback": {"reason": "r"}}},
            "only specify a single field",
        ),
        (
            "churn_monitoring",
            "churn__monitoring__drift",
            {"column_thresholds": [{"column": "tenur", "threshold": 0.2, "reason": "r"}]},
            "column",
        ),
        (
            "churn_monitoring",
            "churn__monitoring__drift",
            {"column_thresholds": [{"column": "tenure", "threshold": 0.2}]},
            "reason",
        ),
        ("churn_monitoring", "churn__monitoring__performance", {"version": "1"}, "version"),
        ("churn_training", "churn__models__champion", {"promotion": {"dry_run": {}}}, "reason"),
    ],
)
def test_invalid_serving_and_monitoring_config_is_rejected_at_launch(
    defs: dg.Definitions, job: str, op: str, config: dict[str, Any], message: str
) -> None:
    partition = "2026-01-01" if job in ("churn_monitoring", "churn_batch_inference") else None
    with pytest.raises(dg.DagsterInvalidConfigError, match=message):
        defs.resolve_job_def(job).execute_in_process(
            run_config={"ops": {op: {"config": config}}}, partition_key=partition
        )


def test_serving_rules(uc: UseCaseConfig) -> None:
    from mlops_assets.assets.ml.serving_run_config import DeploymentRunConfig

    deployment: Any = DeploymentRunConfig  # built from the launchpad's selector form here
    from mlops_assets.assets.monitoring.run_config import drift_run_config

    with pytest.raises(ValidationError, match="reason"):
        deployment(serve={"rollback": {}})
    rollback = deployment(serve={"rollback": {"reason": "v3 misbehaves"}})
    assert rollback.rollback and not rollback.version and rollback.reason == "v3 misbehaves"
    pinned = deployment(serve={"version": {"version": "2", "reason": "r"}})
    assert pinned.version == "2" and not pinned.rollback
    assert not DeploymentRunConfig().rollback and DeploymentRunConfig().reason == ""
    drift_cls: Any = drift_run_config(uc)
    config = drift_cls(
        drift_share=0.6,
        column_thresholds=[{"column": "tenure", "threshold": 0.3, "reason": "seasonal"}],
    )
    changed = config.drift_config(uc.monitoring.drift)
    assert changed.drift_share == 0.6
    assert changed.per_column["tenure"].threshold == 0.3


@pytest.mark.parametrize(
    ("job", "op", "config"),
    [
        ("churn_training", MODEL_OP, {"split": {"reseed": {"seed": 7}}}),
        ("churn_training", "churn__models__evaluation", {"gate": {"disabled": {}}}),
        (
            "churn_deployment",
            "churn__serving__endpoint",
            {"serve": {"version": {"version": "2"}, "rollback": {"reason": "r"}}},
        ),
    ],
)
def test_a_bad_combination_is_refused_before_any_run_or_step_exists(
    defs: dg.Definitions, job: str, op: str, config: dict[str, Any]
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.raises(dg.DagsterInvalidConfigError):
            defs.resolve_job_def(job).execute_in_process(
                run_config={"ops": {op: {"config": config}}}, instance=instance
            )
        assert instance.get_runs() == [], "the launch was refused: no run, so no step event"
        assert not instance.get_event_records(
            dg.EventRecordsFilter(event_type=dg.DagsterEventType.STEP_START)
        )


def test_readme_run_config_section_names_every_family_and_field(uc: UseCaseConfig) -> None:
    from mlops_assets.assets.run_config_reference import run_config_classes
    from mlops_assets_tests.conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Run configuration\n", 1)[1].split("\n## ", 1)[0]
    for family, cls in run_config_classes(uc).items():
        name = family.split(" `")[0]
        assert f"| {name} |" in section, f"README's run-config table lacks {name}"
        row = next(line for line in section.splitlines() if line.startswith(f"| {name} |"))
        for field in cls.model_fields:
            assert f"`{field}`" in row, f"README's {name} row lacks `{field}`"


def _free_form(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Fields of ``model`` (nested models and unions included) that accept any mapping/value."""
    found: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        options = get_args(annotation) or (annotation,)
        for option in options:
            if option is Any or get_origin(option) is dict or option is dict:
                found.append(f"{prefix}{name}")
            elif isinstance(option, type) and issubclass(option, BaseModel):
                found += _free_form(option, f"{prefix}{name}.")
            elif get_origin(option) is list:
                for item in get_args(option):
                    if isinstance(item, type) and issubclass(item, BaseModel):
                        found += _free_form(item, f"{prefix}{name}[].")
    return found


def test_no_run_config_field_is_free_form(tmp_path: Path) -> None:
    from mlops_assets.assets.run_config_reference import run_config_classes

    project = project_for(tmp_path / "data")
    for use_case in project.use_cases:
        for family, cls in run_config_classes(use_case).items():
            assert _free_form(cls) == [], f"{use_case.name} {family}: free-form fields"
            assert cls.model_config.get("extra") == "forbid", f"{family} accepts unknown fields"
