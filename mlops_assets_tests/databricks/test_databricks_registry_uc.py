"""The Unity Catalog registry path against a real local MLflow SQLite registry, 3-level names."""

import re
from pathlib import Path

import pytest
from mlflow import MlflowClient

from mlops_assets.config.ml import GateConfig
from mlops_assets.config.project import load_project
from mlops_assets.databricks.registry_uc import (
    TAG_PROMOTED_BY,
    TAG_PROMOTED_FROM,
    TAG_PROMOTION_REASON,
    UnityCatalogPromoter,
    register_version,
    require_signature,
    uc_model_name,
    uc_settings,
)
from mlops_assets.errors import PromotionError, RegistryError
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.registry import CHAMPION, PREVIOUS_CHAMPION, Registry, gate_metrics
from mlops_assets.ml.tracking import MlflowSettings, RunTags, configure, start_run
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.databricks.conftest import MODEL

GATES = GateConfig(
    primary_metric="roc_auc",
    thresholds=[{"metric": "roc_auc", "min": 0.6}],
    max_degradation={"accuracy": 0.05},
)
GOOD = {"roc_auc": 0.80, "accuracy": 0.75}
BETTER = {"roc_auc": 0.85, "accuracy": 0.76}
WORSE = {"roc_auc": 0.70, "accuracy": 0.60}


@pytest.fixture
def target(request: pytest.FixtureRequest) -> str:
    """A model name in a catalog of this test's own (the store is shared by the session)."""
    return uc_model_name("staging", "churn", re.sub(r"\W+", "_", request.node.name.lower())[-60:])


def evaluated(registry: Registry, version: ModelVersionInfo, metrics: dict[str, float]) -> None:
    registry.record_decision(version.name, version.version, decide(metrics, None, GATES), metrics)


def log_model(settings: MlflowSettings, name: str, with_outputs: bool) -> str:
    """A model logged with a signature lacking outputs (or none at all); its registered URI."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.dummy import DummyClassifier

    x = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    model = DummyClassifier().fit(x, [0, 1, 0, 1])
    signature = infer_signature(x, model.predict(x)) if with_outputs else infer_signature(x)
    with start_run(settings, "partial", RunTags(dagster_run_id="t", asset_key="a")):
        info = mlflow.sklearn.log_model(
            model, name="model", signature=signature, pip_requirements=["scikit-learn"],
            serialization_format="cloudpickle",
        )  # fmt: skip
    return str(info.model_uri)


def test_three_level_names_are_validated() -> None:
    assert uc_model_name("mlops_dev", "churn", "Churn_Model") == "mlops_dev.churn.churn_model"
    with pytest.raises(RegistryError, match="invalid Unity Catalog name"):
        uc_model_name("mlops-dev", "churn", "m")


def test_settings_point_at_databricks_tracking_and_the_uc_registry() -> None:
    env = load_project(
        CONFIGS_DIR, env="databricks-dev", environ={"MLOPS_DATA_DIR": "/tmp/u"}
    ).environment
    settings = uc_settings(env, "churn")  # type: ignore[arg-type]
    assert (settings.tracking_uri, settings.effective_registry_uri) == (
        "databricks",
        "databricks-uc",
    )
    assert settings.experiment_name == "/Shared/mlops_assets/dev/churn"


def test_a_signature_needs_inputs_and_outputs(
    uc_store: MlflowSettings,
    served_models: list[ModelVersionInfo],
    tmp_path: Path,
) -> None:
    # another store selected in this process (as an earlier step or test may leave it) must not
    # change where the model is read from
    configure(
        MlflowSettings(
            tracking_uri=f"sqlite:///{tmp_path / 'other.db'}",
            experiment_name="elsewhere",
            artifact_location=(tmp_path / "other").as_uri(),
        )
    )
    signature = require_signature(served_models[0].model_uri, uc_store)
    assert signature.inputs is not None and signature.outputs is not None
    no_outputs = log_model(uc_store, "no_outputs", with_outputs=False)
    with pytest.raises(RegistryError, match="lacks outputs") as caught:
        require_signature(no_outputs, uc_store)
    assert caught.value.context["missing"] == ["outputs"]
    assert caught.value.fix and "infer_signature" in caught.value.fix
    full = log_model(uc_store, "full", with_outputs=True)
    assert require_signature(full, uc_store).outputs is not None


def test_registration_checks_the_signature_first(uc_store: MlflowSettings) -> None:
    name = "dev.churn.signature_checked"
    with pytest.raises(RegistryError, match="lacks outputs"):
        register_version(uc_store, log_model(uc_store, "no_outputs", with_outputs=False), name)
    assert Registry(uc_store).client.search_model_versions(f"name = '{name}'") == []
    info = register_version(
        uc_store, log_model(uc_store, "full", with_outputs=True), name, {"mlops.task": "x"}
    )
    assert (info.name, info.version, info.tags["mlops.task"]) == (name, "1", "x")


def test_aliases_and_gate_records_work_with_three_level_names(
    uc_store: MlflowSettings, served_models: list[ModelVersionInfo]
) -> None:
    registry = Registry(uc_store)
    v1 = served_models[0]
    registry.set_challenger(MODEL, v1.version)
    evaluated(registry, v1, GOOD)
    assert gate_metrics(registry.get_version(MODEL, v1.version)) == GOOD
    assert registry.alias_version(MODEL, "challenger") is not None


def copy_of(registry: Registry, version: ModelVersionInfo, name: str) -> str:
    return str(registry.client.copy_model_version(version.model_uri, name).version)


def test_promotion_is_a_compare_and_swap_that_records_who_and_why(
    uc_store: MlflowSettings, served_models: list[ModelVersionInfo], target: str
) -> None:
    registry = Registry(uc_store)
    first, second = (copy_of(registry, v, target) for v in served_models)
    promoter = UnityCatalogPromoter(registry)
    result = promoter.promote(target, first, None, promoted_by="sp-ci", reason="first model")
    assert (result.changed, result.previous_champion) == (True, None)
    with pytest.raises(PromotionError, match="changed since evaluation") as caught:
        promoter.promote(target, second, None, promoted_by="sp-ci", reason="stale evaluation")
    assert "expected no champion, found version" in caught.value.message
    assert promoter.champion(target) == first
    result = promoter.promote(
        target, second, first, promoted_by="alice@example.com", reason="drift"
    )
    assert (result.changed, result.previous_champion) == (True, first)
    info = registry.get_version(target, second)
    assert info.tags[TAG_PROMOTED_BY] == "alice@example.com"
    assert info.tags[TAG_PROMOTION_REASON] == "drift"
    assert registry.alias_version(target, PREVIOUS_CHAMPION).version == first  # type: ignore[union-attr]
    again = promoter.promote(target, second, second, promoted_by="x", reason="retry")
    assert again.changed is False


class _RacingClient(MlflowClient):
    """A real client; right after it moves @champion, a competing promoter moves it again."""

    def __init__(self, uri: str, rival_version: str) -> None:
        super().__init__(tracking_uri=uri, registry_uri=uri)
        self.rival = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.rival_version = rival_version

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        super().set_registered_model_alias(name, alias, version)
        if alias == CHAMPION and str(version) != self.rival_version:
            self.rival.set_registered_model_alias(name, CHAMPION, self.rival_version)


class _RacingRegistry(Registry):
    def __init__(self, settings: MlflowSettings, rival_version: str) -> None:
        super().__init__(settings)
        self._racing = _RacingClient(settings.tracking_uri, rival_version)

    @property
    def client(self) -> MlflowClient:
        return self._racing


def test_a_promoter_that_loses_a_race_after_writing_finds_out(
    uc_store: MlflowSettings, served_models: list[ModelVersionInfo], target: str
) -> None:
    registry = Registry(uc_store)
    mine, rival = (copy_of(registry, v, target) for v in served_models)
    promoter = UnityCatalogPromoter(_RacingRegistry(uc_store, rival))
    with pytest.raises(PromotionError, match="another promotion") as caught:
        promoter.promote(target, mine, None, promoted_by="me", reason="race")
    assert caught.value.context["champion"] == rival
    assert TAG_PROMOTED_BY not in registry.get_version(target, mine).tags  # nothing recorded


def test_promotion_across_catalogs_copies_through_the_gates(
    uc_store: MlflowSettings, served_models: list[ModelVersionInfo], target: str
) -> None:
    registry = Registry(uc_store)
    v1, v2 = served_models
    evaluated(registry, v1, GOOD)
    evaluated(registry, v2, BETTER)
    promoter = UnityCatalogPromoter(registry)
    first = promoter.promote_from(
        registry, MODEL, v1.version, target, GATES, promoted_by="ci", reason="release 1"
    )
    assert first.decision.action == "promote" and first.target_version is not None
    copy = registry.get_version(target, first.target_version)
    assert copy.tags[TAG_PROMOTED_FROM] == v1.model_uri
    assert (copy.tags[TAG_PROMOTED_BY], copy.tags[TAG_PROMOTION_REASON]) == ("ci", "release 1")
    assert copy.tags["gate.passed"] == "true" and gate_metrics(copy) == GOOD
    assert CHAMPION in copy.aliases
    second = promoter.promote_from(
        registry, MODEL, v2.version, target, GATES, promoted_by="ci", reason="release 2"
    )
    assert (
        second.promotion is not None and second.promotion.previous_champion == first.target_version
    )
    prod = uc_model_name("prod", "churn", target.split(".")[-1])
    to_prod = promoter.promote_from(
        registry,
        target,
        str(second.target_version),
        prod,
        GATES,
        promoted_by="release-manager",
        reason="go",
    )
    prod_copy = registry.get_version(prod, str(to_prod.target_version))
    assert prod_copy.tags[TAG_PROMOTED_FROM] == f"models:/{target}/{second.target_version}"
    assert CHAMPION in prod_copy.aliases


def test_a_rejected_or_dry_run_promotion_copies_nothing(
    uc_store: MlflowSettings, served_models: list[ModelVersionInfo], target: str
) -> None:
    registry = Registry(uc_store)
    v1, v2 = served_models
    evaluated(registry, v1, GOOD)
    promoter = UnityCatalogPromoter(registry)
    promoter.promote_from(
        registry, MODEL, v1.version, target, GATES, promoted_by="ci", reason="base"
    )
    evaluated(registry, v2, WORSE)
    rejected = promoter.promote_from(
        registry, MODEL, v2.version, target, GATES, promoted_by="ci", reason="r"
    )
    assert rejected.decision.action == "reject" and rejected.target_version is None
    assert any("accuracy" in r for r in rejected.decision.reasons)
    evaluated(registry, v2, BETTER)
    dry = GATES.model_copy(update={"mode": "dry_run"})
    skipped = promoter.promote_from(
        registry, MODEL, v2.version, target, dry, promoted_by="ci", reason="r"
    )
    assert skipped.decision.would_promote and skipped.target_version is None
    versions = registry.client.search_model_versions(f"name = '{target}'")
    assert len(versions) == 1


def test_a_version_without_gate_metrics_cannot_be_promoted_across(
    uc_store: MlflowSettings, target: str
) -> None:
    import mlflow

    registry = Registry(uc_store)
    uri = log_model(uc_store, "bare", with_outputs=True)
    mlflow.set_registry_uri(uc_store.tracking_uri)
    version = mlflow.register_model(uri, "dev.churn.bare_model")  # never evaluated
    with pytest.raises(PromotionError, match="carries no gate metrics"):
        UnityCatalogPromoter(registry).promote_from(
            registry,
            "dev.churn.bare_model",
            str(version.version),
            target,
            GATES,
            promoted_by="x",
            reason="y",
        )
