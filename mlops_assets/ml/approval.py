"""Whether a model version may score or serve: the gates promoted it, or an audited override.

A version is *approved* when the gate decision recorded on it in MLflow says promote and passed
(:meth:`~mlops_assets.ml.registry.Registry.record_decision`), or when an override is recorded:
:func:`record_override` (who, why, when) writes an MLflow run of its own and points the version
at it with ``mlops.override.*`` tags. An override is honoured only when that run exists and says
the same thing as the tags, so hand-set tags alone approve nothing.

:meth:`Registry.require_champion` (batch inference, monitoring) and the local serving path
(:func:`mlops_assets.ml.serving.start_server`) call :func:`require_approved`: a ``@champion`` set
by hand around the gates is refused with an :class:`~mlops_assets.errors.UnapprovedModelError`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.errors import RegistryError, UnapprovedModelError

if TYPE_CHECKING:
    from mlops_assets.ml.model_store import ModelVersionInfo
    from mlops_assets.ml.registry import Registry
    from mlops_assets.ml.tracking import MlflowSettings

OVERRIDE_PREFIX = "mlops.override."
_REGISTERED = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[^/@]+))$")
_KEYS = ("by", "reason", "at", "run_id")


class OverrideRequest(BaseModel):
    """An explicit request to let a version score and serve without a passing gate decision."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    by: str = Field(min_length=1, max_length=200, description="Who takes responsibility.")
    reason: str = Field(
        min_length=10, max_length=2000, description="Why the gates are overridden (a sentence)."
    )


class ChampionOverride(OverrideRequest):
    """An override as recorded in MLflow."""

    at: datetime = Field(description="When it was recorded (UTC).")
    run_id: str = Field(description="The MLflow run that records it.")


class Approval(BaseModel):
    """Why a version may (or may not) score and serve."""

    model_config = ConfigDict(frozen=True)

    gate_action: str | None = Field(description="Recorded gate action (None: never judged).")
    gate_passed: bool = Field(description="Whether the recorded gate checks all passed.")
    override: ChampionOverride | None = Field(description="The audited override, if any.")

    @property
    def by_gate(self) -> bool:
        return self.gate_action == "promote" and self.gate_passed

    @property
    def approved(self) -> bool:
        return self.by_gate or self.override is not None


def claimed_override(version: ModelVersionInfo) -> ChampionOverride | None:
    """The override the version's tags claim (not yet checked against its run)."""
    values = {k: version.tags.get(f"{OVERRIDE_PREFIX}{k}") for k in _KEYS}
    if any(v is None for v in values.values()):
        return None
    try:
        return ChampionOverride.model_validate(values)
    except ValueError:
        return None


def approval(registry: Registry, version: ModelVersionInfo) -> Approval:
    """The version's approval, its override verified against the run that records it."""
    claimed = claimed_override(version)
    confirmed = claimed is not None and _run_confirms(registry, claimed, version)
    override = claimed if confirmed else None
    return Approval(
        gate_action=version.tags.get("gate.action"),
        gate_passed=version.tags.get("gate.passed") == "true",
        override=override,
    )


def _run_confirms(
    registry: Registry, override: ChampionOverride, version: ModelVersionInfo
) -> bool:
    """Whether the override's run records this very override: who, why, this model and version
    (a run id copied onto another version confirms nothing)."""
    from mlflow.exceptions import MlflowException

    def read() -> dict[str, str] | None:
        try:
            run = registry.client.get_run(override.run_id)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return {**run.data.params, "model": run.data.tags.get("mlops.model", "")}

    found = registry._call("reading the override run", override.run_id, read)
    expected = {
        "override_by": override.by,
        "override_reason": override.reason,
        "override_version": version.version,
        "model": version.name,
    }
    return found is not None and all(found.get(k) == v for k, v in expected.items())


def require_approved(
    registry: Registry, version: ModelVersionInfo, purpose: str
) -> ModelVersionInfo:
    """``version`` when approved, else an UnapprovedModelError (context and fix, no bypass).

    Args:
        purpose: what it is needed for, completing "<name> v<version> cannot be used as ...".
    """
    found = approval(registry, version)
    if found.approved:
        return version
    recorded = found.gate_action or "missing"
    state = "passed" if found.gate_passed else "failed or missing"
    raise UnapprovedModelError(
        f"{version.name} v{version.version} cannot be used as {purpose}: its gate decision "
        f"recorded in MLflow is {recorded!r} (checks {state}) and no override is recorded",
        context={
            "model": version.name,
            "version": version.version,
            "recorded_gate_action": found.gate_action,
            "aliases": version.aliases,
        },
        fix="promote a version through the training job's gates; or, deliberately, record an "
        "audited override (`mlops-assets override --version N --by WHO --reason WHY`, or "
        "mlops_assets.ml.approval.record_override)",
    )


def record_override(
    registry: Registry, name: str, version: str, request: OverrideRequest
) -> ChampionOverride:
    """Record, in MLflow, that ``version`` may score and serve although the gates did not
    promote it: a run of its own (params ``override_by``/``override_reason``, tags) in the
    registry's experiment, and ``mlops.override.*`` tags on the version pointing at it."""
    from mlops_assets.ml.tracking import configure

    name = registry.settings.model_name(name)  # catalog.schema.<name> on Unity Catalog
    registry.get_version(name, version)
    experiment_id = registry._call(
        "opening the experiment", name, lambda: configure(registry.settings)
    )
    at = datetime.now(UTC).replace(microsecond=0)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)

    def write() -> ChampionOverride:
        client = registry.client
        run = client.create_run(
            experiment_id,
            run_name=f"override {slug} v{version}",
            tags={"mlops.kind": "override", "mlops.model": name, "mlops.version": version},
        )
        run_id = run.info.run_id
        client.log_param(run_id, "override_by", request.by)
        client.log_param(run_id, "override_reason", request.reason)
        client.log_param(run_id, "override_version", version)
        client.set_terminated(run_id)
        recorded = ChampionOverride(by=request.by, reason=request.reason, at=at, run_id=run_id)
        for key in _KEYS:
            value = getattr(recorded, key)
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            client.set_model_version_tag(name, version, f"{OVERRIDE_PREFIX}{key}", text)
        return recorded

    return registry._call("recording an override", name, write)


def approval_metadata(registry: Registry, version: ModelVersionInfo) -> dict[str, str]:
    """What approved ``version``, for asset metadata (``approved_by``, and the override's who,
    why, when and run when there is one)."""
    found = approval(registry, version)
    if found.by_gate:
        return {"approved_by": "gates"}
    if found.override is None:
        return {"approved_by": "nothing"}
    o = found.override
    return {
        "approved_by": "override",
        "override_by": o.by,
        "override_reason": o.reason,
        "override_at": o.at.isoformat(),
        "override_run_id": o.run_id,
    }


def approved_version(model_uri: str, settings: MlflowSettings | None) -> ModelVersionInfo:
    """The registered version ``model_uri`` names, approved to serve (gates or audited
    override, :func:`mlops_assets.ml.approval.require_approved`).

    Raises:
        UnapprovedModelError: not a registered version, or one the gates did not promote.
        RegistryError: no such version or alias; MlflowUnavailableError: MLflow unreachable.
    """
    from mlops_assets.ml.registry import Registry

    match = _REGISTERED.match(model_uri)
    if match is None:
        raise UnapprovedModelError(
            f"only registered model versions are served, not {model_uri!r}",
            context={"model_uri": model_uri},
            fix="serve `models:/<name>/<version>` or `models:/<name>@<alias>` of a version the "
            "gates promoted",
        )
    registry = Registry(settings or _ambient_settings())
    name, version, alias = match["name"], match["version"], match["alias"]
    found = registry.get_version(name, version) if version else registry.alias_version(name, alias)
    if found is None:
        raise RegistryError(
            f"{name} has no @{alias} version to serve",
            context={"model_uri": model_uri},
            fix="train and promote a model first (the training job)",
        )
    return require_approved(registry, found, "a served model")


def _ambient_settings() -> MlflowSettings:
    """The process's MLflow URIs (what ``mlflow models serve`` would use without settings)."""
    import mlflow

    from mlops_assets.ml.tracking import MlflowSettings

    return MlflowSettings(
        tracking_uri=mlflow.get_tracking_uri(),
        registry_uri=mlflow.get_registry_uri(),
        experiment_name="mlops_assets/serving",
    )
