"""The Unity Catalog model registry (``databricks-uc``): three-level names, signatures, promotion.

Unity Catalog refuses a model version whose signature lacks inputs or outputs; the local SQLite
registry does not, so :func:`require_signature` checks it ourselves before anything is registered
or copied, and the same code runs against both.

Aliases and gates are exactly the local ones (:class:`mlops_assets.ml.registry.Registry`,
:func:`mlops_assets.ml.gates.decide`, :func:`mlops_assets.ml.registry.gate_metrics`). What
differs is the promotion lock: promoters run on different machines, so there is no file lock.
:class:`UnityCatalogPromoter` does a compare-and-swap on ``@champion`` instead: it re-reads the
alias right before moving it, and reads it again afterwards to detect a promoter that wrote after
it. Residual race (MLflow has no conditional alias write): when promoter B's last read happens
before promoter A's write and B's write lands after A's verification, both report success; B (the
last writer) is the champion although it was judged against the older champion, and
``@previous_champion`` names the older one. Serialise promotions in Dagster as well (the
``mlops_promotion`` concurrency pool, limit 1) to close it.

Promotion across environments (dev -> staging -> prod catalogs) copies the version with
``copy_model_version`` after the same gates, and records on the new version where it came from,
who promoted it, why, and the gate decision.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.errors import MLOpsError, PromotionError, RegistryError
from mlops_assets.ml.gates import GateDecision, decide
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.registry import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    PromotionResult,
    Registry,
    gate_metrics,
)
from mlops_assets.ml.tracking import MlflowSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow.models import ModelSignature

    from mlops_assets.config.environment import DatabricksEnvironment
    from mlops_assets.config.ml import GateConfig

T = TypeVar("T")
TAG_PROMOTED_FROM = "mlops.promoted_from"
TAG_PROMOTED_BY = "mlops.promoted_by"
TAG_PROMOTION_REASON = "mlops.promotion_reason"
TAG_PROMOTED_AT = "mlops.promoted_at"
_PART = re.compile(r"^[a-z_][a-z0-9_]*$")
_TAG_LIMIT = 4000


def uc_model_name(catalog: str, schema: str, model: str) -> str:
    """``catalog.schema.model``, each part a lower-case Unity Catalog identifier."""
    parts = [catalog, schema, model.lower()]
    bad = [p for p in parts if not _PART.match(p)]
    if bad:
        raise RegistryError(
            f"invalid Unity Catalog name part(s) {bad} in {'.'.join(parts)!r}",
            context={"catalog": catalog, "schema": schema, "model": model},
            fix="use lower-case letters, digits and underscores (starting with a letter or _)",
        )
    return ".".join(parts)


def uc_settings(env: DatabricksEnvironment, use_case: str) -> MlflowSettings:
    """Databricks tracking and the Unity Catalog registry for a use case's experiment."""
    folder = env.mlflow.experiment_dir.rstrip("/")
    return MlflowSettings(
        tracking_uri="databricks",
        registry_uri="databricks-uc",
        experiment_name=f"{folder}/{use_case}",
    )


def require_signature(model_uri: str, settings: MlflowSettings) -> ModelSignature:
    """The model's signature, which must declare inputs AND outputs (as Unity Catalog demands).

    The model is read from ``settings``' stores: this process's MLflow is pointed at them first
    (a ``models:/`` URI resolves through the registry, which is process-wide in MLflow), so the
    answer never depends on which store an earlier call left selected.

    Raises:
        RegistryError: the model cannot be read, or its signature is missing or incomplete.
    """
    import mlflow
    from mlflow.models import get_model_info

    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.effective_registry_uri)
    try:
        signature: ModelSignature | None = get_model_info(model_uri).signature
    except Exception as exc:
        raise RegistryError(
            f"could not read the model at {model_uri}: {type(exc).__name__}: {exc}",
            context={"model_uri": model_uri},
            fix="check the URI and that the tracking/registry store is reachable",
        ) from exc
    missing = [
        part
        for part, value in (
            ("signature", signature),
            ("inputs", signature and signature.inputs),
            ("outputs", signature and signature.outputs),
        )
        if not value
    ]
    if missing:
        raise RegistryError(
            f"model {model_uri} cannot go to Unity Catalog: its signature lacks "
            f"{', '.join(missing)}",
            context={"model_uri": model_uri, "missing": missing},
            fix="log it with signature=infer_signature(features, model_output) so the "
            "signature has inputs and outputs",
        )
    assert signature is not None
    return signature


def register_version(
    settings: MlflowSettings, model_uri: str, name: str, tags: dict[str, str] | None = None
) -> ModelVersionInfo:
    """Register ``model_uri`` as a new version of ``name`` after checking its signature.

    Raises:
        RegistryError: the signature lacks inputs or outputs (nothing is registered), or the
            registry refused.
    """
    import mlflow

    from mlops_assets.ml.model_store import version_info
    from mlops_assets.ml.tracking import configure

    require_signature(model_uri, settings)
    try:
        configure(settings)
        registered = mlflow.register_model(model_uri, name, tags=tags)
        client = mlflow.MlflowClient(settings.tracking_uri, settings.effective_registry_uri)
        return version_info(client.get_model_version(name, registered.version))
    except MLOpsError:
        raise
    except Exception as exc:
        raise RegistryError(
            f"could not register {model_uri} as {name!r}: {type(exc).__name__}: {exc}",
            context={"model": name, "registry_uri": settings.effective_registry_uri},
            fix="check CREATE MODEL on the schema and that the model files were uploaded",
        ) from exc


class CrossPromotion(BaseModel):
    """The outcome of promoting a version from one catalog to another."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="`models:/<source name>/<version>` that was judged.")
    target_name: str = Field(description="Registered model in the target catalog.")
    target_version: str | None = Field(description="The copy (None when nothing was copied).")
    decision: GateDecision = Field(description="The gate decision in the target.")
    promotion: PromotionResult | None = Field(description="Alias move, when promoted.")
    promoted_by: str = Field(description="Who promoted it.")
    reason: str = Field(description="Why.")


class UnityCatalogPromoter:
    """Aliases, gates and promotion for one registry, without a file lock (see module doc)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _call(self, what: str, name: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except MLOpsError:
            raise
        except Exception as exc:
            raise RegistryError(
                f"{what} failed for model {name!r}: {type(exc).__name__}: {exc}",
                context={
                    "model": name,
                    "registry_uri": self.registry.settings.effective_registry_uri,
                },
                fix="check the principal's privileges on the model (USE CATALOG, USE SCHEMA, "
                "CREATE MODEL / APPLY TAG, ownership) and that the version exists",
            ) from exc

    def champion(self, name: str) -> str | None:
        """The version ``@champion`` points at now (None: no champion or no model)."""
        info = self.registry.alias_version(name, CHAMPION)
        return None if info is None else info.version

    def promote(
        self,
        name: str,
        version: str,
        expected_champion: str | None,
        *,
        promoted_by: str,
        reason: str,
    ) -> PromotionResult:
        """Compare-and-swap ``@champion`` from ``expected_champion`` to ``version``.

        Raises:
            PromotionError: the champion is not (or no longer) the expected one, before or after
                the write.
        """
        self.registry.get_version(name, version)
        client = self.registry.client
        champion = self.champion(name)
        _expect(name, version, expected_champion, champion)
        now = datetime.now(UTC)
        if champion == version:
            return PromotionResult(
                name=name,
                version=version,
                previous_champion=champion,
                changed=False,
                promoted_at=now,
            )
        self._call(
            "setting @challenger",
            name,
            lambda: client.set_registered_model_alias(name, CHALLENGER, version),
        )
        _expect(name, version, expected_champion, self.champion(name))  # re-read just before
        self._call(
            "setting @champion",
            name,
            lambda: client.set_registered_model_alias(name, CHAMPION, version),
        )
        after = self.champion(name)
        if after != version:
            raise PromotionError(
                f"another promotion of {name!r} moved @champion to version {after} while version "
                f"{version} was being promoted; it won",
                context={"model": name, "version": version, "champion": after},
                fix="evaluate the challenger again against the new champion",
            )
        tags = {
            TAG_PROMOTED_AT: now.isoformat(timespec="seconds"),
            TAG_PROMOTED_BY: promoted_by,
            TAG_PROMOTION_REASON: reason[:_TAG_LIMIT],
        }

        def finish() -> None:
            if champion is not None:
                client.set_registered_model_alias(name, PREVIOUS_CHAMPION, champion)
            for key, value in tags.items():
                client.set_model_version_tag(name, version, key, value)

        self._call("recording the promotion", name, finish)
        return PromotionResult(
            name=name, version=version, previous_champion=champion, changed=True, promoted_at=now
        )

    def promote_from(
        self,
        source: Registry,
        source_name: str,
        source_version: str,
        target_name: str,
        gates: GateConfig,
        *,
        promoted_by: str,
        reason: str,
    ) -> CrossPromotion:
        """Judge ``source_version`` against this registry's champion; copy and promote it if the
        gates say so (dry run or rejection: nothing is copied)."""
        judged: ModelVersionInfo = source.get_version(source_name, source_version)
        require_signature(judged.model_uri, source.settings)
        challenger = gate_metrics(judged)
        if not challenger:
            raise PromotionError(
                f"version {source_version} of {source_name!r} carries no gate metrics",
                context={"model": source_name, "version": source_version},
                fix="evaluate it in its own environment first (the evaluation records them)",
            )
        champion_version = self.champion(target_name)
        champion = (
            None
            if champion_version is None
            else gate_metrics(self.registry.get_version(target_name, champion_version))
        )
        decision = decide(challenger, champion, gates)

        def outcome(version: str | None, promotion: PromotionResult | None) -> CrossPromotion:
            return CrossPromotion(
                source=judged.model_uri,
                target_name=target_name,
                target_version=version,
                decision=decision,
                promotion=promotion,
                promoted_by=promoted_by,
                reason=reason,
            )

        if decision.action != "promote":
            return outcome(None, None)
        client = self.registry.client
        copy = self._call(
            "copying the version",
            target_name,
            lambda: client.copy_model_version(judged.model_uri, target_name),
        )
        version = str(copy.version)
        self._call(
            "tagging the copy",
            target_name,
            lambda: client.set_model_version_tag(
                target_name, version, TAG_PROMOTED_FROM, judged.model_uri
            ),
        )
        self.registry.record_decision(target_name, version, decision, challenger)
        promotion = self.promote(
            target_name, version, champion_version, promoted_by=promoted_by, reason=reason
        )
        return outcome(version, promotion)


def _show(version: str | None) -> str:
    return "no champion" if version is None else f"version {version}"


def _expect(name: str, version: str, expected: str | None, found: str | None) -> None:
    if found != expected:
        raise PromotionError(
            f"the champion of {name!r} changed since evaluation: expected {_show(expected)}, "
            f"found {_show(found)}; version {version} was not promoted",
            context={"model": name, "version": version},
            fix="evaluate the challenger again against the current champion",
        )
