"""Model registry operations with aliases only (``@champion``, ``@challenger``), never stages.

MLflow alias moves are last-writer-wins. :meth:`Registry.promote` makes promotion safe: it holds
an inter-process file lock keyed by the registry URI and model name, then re-reads ``@champion``
and refuses (compare-and-swap) if it is no longer the champion the challenger was evaluated
against. The lock serialises promoters that share ``lock_dir`` (one machine, or a shared
volume); every promoter must go through this class for the guarantee to hold.

Every method takes the bare registered name the assets use (``<use_case>_<model>``) or a
three-part one; with a ``model_namespace`` in the settings (Unity Catalog) a bare name is
qualified to ``<catalog>.<schema>.<name>`` before MLflow sees it.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.errors import MLOpsError, PromotionError, RegistryError
from mlops_assets.ml.approval import require_approved
from mlops_assets.ml.gate_record import GATE_METRICS_TAG, GATE_RUN_METRIC_PREFIX, GATE_RUN_TAG
from mlops_assets.ml.gate_record import gate_metrics as gate_metrics
from mlops_assets.ml.gate_record import recorded_gate_action as recorded_gate_action
from mlops_assets.ml.gates import GateDecision
from mlops_assets.ml.locking import file_lock, lock_path
from mlops_assets.ml.mlflow_retry import DEFAULT_POLICY, RetryPolicy, call_with_retry
from mlops_assets.ml.model_store import ModelVersionInfo, version_info
from mlops_assets.ml.tracking import MlflowSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"
_TAG_LIMIT = 4000
_DECISION_MARK = "\n\nGate decision"

T = TypeVar("T")


class PromotionResult(BaseModel):
    """What a promotion changed."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Registered model name.")
    version: str = Field(description="The new champion.")
    previous_champion: str | None = Field(description="The champion it replaced, if any.")
    changed: bool = Field(description="False when the version already was the champion.")
    promoted_at: datetime = Field(description="When the aliases moved (UTC).")


class Registry:
    """Registry operations for the models of one MLflow registry."""

    def __init__(
        self,
        settings: MlflowSettings,
        lock_dir: Path | None = None,
        lock_timeout_s: float = 60.0,
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        """
        Args:
            settings: tracking and registry URIs.
            lock_dir: where promotion lock files live (default: a folder in the temp dir).
            lock_timeout_s: how long a promotion waits for another one to finish.
            retry: how long calls are retried while MLflow is unreachable.
        """
        self.settings = settings
        self.lock_dir = lock_dir or Path(tempfile.gettempdir()) / "mlops-assets-locks"
        self.lock_timeout_s = lock_timeout_s
        self.retry = retry
        self._client: MlflowClient | None = None

    @property
    def client(self) -> MlflowClient:
        """An MLflow client bound to these settings (no global state)."""
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(
                tracking_uri=self.settings.tracking_uri,
                registry_uri=self.settings.effective_registry_uri,
            )
        return self._client

    def _call(self, what: str, name: str, fn: Callable[[], T]) -> T:
        """``fn()`` retried while MLflow is unreachable (:mod:`mlops_assets.ml.mlflow_retry`);
        any other failure becomes a RegistryError."""
        try:
            return call_with_retry(
                f"{what} of {name}",
                fn,
                self.retry,
                target=self.settings.effective_registry_uri,
                context={"model": name},
            )
        except MLOpsError:
            raise
        except Exception as exc:  # MlflowException, connection errors
            raise RegistryError(
                f"{what} failed for model {name!r}: {type(exc).__name__}: {exc}",
                context={"model": name, "registry_uri": self.settings.effective_registry_uri},
                fix="check that the registry is reachable and the model/version exists",
            ) from exc

    def _aliases(self, name: str) -> dict[str, str]:
        from mlflow.exceptions import MlflowException

        name = self.settings.model_name(name)

        try:
            model = self.client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return {}
            raise
        return {alias: str(version) for alias, version in (model.aliases or {}).items()}

    def alias_version(self, name: str, alias: str) -> ModelVersionInfo | None:
        """The version an alias points at, or None (no such alias or model)."""
        name = self.settings.model_name(name)

        def read() -> ModelVersionInfo | None:
            version = self._aliases(name).get(alias)
            if version is None:
                return None
            return version_info(self.client.get_model_version(name, version))

        return self._call(f"reading @{alias}", name, read)

    def require_champion(self, name: str, purpose: str) -> ModelVersionInfo:
        """The ``@champion`` version, approved: its recorded gate decision says promote, or an
        audited override is recorded (:mod:`mlops_assets.ml.approval`).

        Raises:
            RegistryError: there is no champion (the fix says how to get one).
            UnapprovedModelError: the champion was set around the gates (by hand).

        Args:
            purpose: what the champion is needed for, completing "<name> has no @champion to
                ...": e.g. ``"score with"``, ``"monitor"``.
        """
        name = self.settings.model_name(name)
        found = self.alias_version(name, CHAMPION)
        if found is None:
            raise RegistryError(
                f"{name} has no @{CHAMPION} to {purpose}",
                context={"model": name, "registry_uri": self.settings.effective_registry_uri},
                fix="run the training job until a model passes the promotion gates",
            )
        return require_approved(self, found, f"@{CHAMPION} to {purpose}")

    def latest_version(self, name: str) -> ModelVersionInfo | None:
        """The most recently registered version (highest number), or None when there is none."""
        name = self.settings.model_name(name)

        def read() -> ModelVersionInfo | None:
            versions = self.client.search_model_versions(f"name = '{name}'")
            if not versions:
                return None
            return version_info(max(versions, key=lambda mv: int(mv.version)))

        return self._call("listing versions", name, read)

    def get_version(self, name: str, version: str) -> ModelVersionInfo:
        """A registered version (RegistryError if it does not exist)."""
        name = self.settings.model_name(name)
        return self._call(
            f"reading version {version}",
            name,
            lambda: version_info(self.client.get_model_version(name, version)),
        )

    def set_challenger(self, name: str, version: str) -> None:
        """Point ``@challenger`` at ``version`` (a candidate under evaluation)."""
        name = self.settings.model_name(name)
        self.get_version(name, version)
        self._call(
            "setting @challenger",
            name,
            lambda: self.client.set_registered_model_alias(name, CHALLENGER, version),
        )

    def record_decision(
        self,
        name: str,
        version: str,
        decision: GateDecision,
        metrics: dict[str, float],
        *,
        run_id: str | None = None,
    ) -> None:
        """Write the gate decision on the version and its metrics as MLflow metrics.

        The version gets a few tags (``gate.action``, ``gate.passed``, ``gate.mode``,
        ``gate.would_promote``, ``gate.first_model``, ``gate.decided_at``, the reasons,
        ``gate.metrics`` as one JSON object and ``gate.run_id``) and the decision in its
        description. The metrics are logged as numbers (``gate.<metric>``) on ``run_id`` (the
        evaluation run), else on the run that produced the version when this tracking store
        has it.
        """
        name = self.settings.model_name(name)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        summary = " ".join(decision.reasons)
        tags = {
            "gate.mode": decision.mode,
            "gate.action": decision.action,
            "gate.passed": str(decision.passed).lower(),
            "gate.would_promote": str(decision.would_promote).lower(),
            "gate.first_model": str(decision.first_model).lower(),
            "gate.decided_at": now,
            "gate.reasons": summary[:_TAG_LIMIT],
            GATE_METRICS_TAG: json.dumps(metrics, sort_keys=True)[:_TAG_LIMIT],
        }

        def write() -> None:
            from mlflow.entities import Metric

            client = self.client
            current = client.get_model_version(name, version)
            target = run_id or self._own_run(current.run_id)
            if target is not None:
                stamp = int(time.time() * 1000)
                client.log_batch(
                    target,
                    metrics=[
                        Metric(f"{GATE_RUN_METRIC_PREFIX}{k}", v, stamp, 0)
                        for k, v in sorted(metrics.items())
                        if math.isfinite(v)
                    ],
                )
                tags[GATE_RUN_TAG] = target
            for key, value in tags.items():
                client.set_model_version_tag(name, version, key, value)
            base = (current.description or "").split(_DECISION_MARK)[0]
            text = "\n".join(f"- {r}" for r in decision.reasons)
            client.update_model_version(
                name,
                version,
                description=f"{base}{_DECISION_MARK} ({decision.mode}, {now}): "
                f"{decision.action}\n{text}",
            )

        self._call("recording the gate decision", name, write)

    def _own_run(self, run_id: str | None) -> str | None:
        """``run_id`` when this tracking store holds that run (a copied version's may not)."""
        from mlflow.exceptions import MlflowException

        if not run_id:
            return None
        try:
            self.client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return run_id

    def rollback_version(self, name: str) -> str:
        """The version a rollback serves: ``@previous_champion``, the champion the last
        promotion replaced (whatever steps since kept the champion).

        Raises:
            RegistryError: no promotion has replaced a champion yet.
        """
        previous = self.alias_version(name, PREVIOUS_CHAMPION)
        if previous is None:
            raise RegistryError(
                f"{name} has no @{PREVIOUS_CHAMPION}: no promotion has replaced a champion yet, "
                "so there is nothing to roll back to",
                context={"model": name},
                fix="serve a given `version` instead of `rollback`",
            )
        return previous.version

    def promote(self, name: str, version: str, expected_champion: str | None) -> PromotionResult:
        """Make ``version`` the champion, if the champion is still ``expected_champion``.

        Under an inter-process lock: re-read ``@champion``; if it differs from
        ``expected_champion`` (the champion the challenger was compared with; None for "no
        champion"), raise. Otherwise set ``@challenger``, then ``@champion``, and point
        ``@previous_champion`` at the replaced version (for rollback).

        Raises:
            PromotionError: the champion changed since evaluation, or the lock timed out.
            RegistryError: the version does not exist or the registry refused.
        """
        name = self.settings.model_name(name)
        self.get_version(name, version)
        path = lock_path(self.lock_dir, self.settings.effective_registry_uri, name)
        with file_lock(path, self.lock_timeout_s):
            current = self._call("reading @champion", name, lambda: self._aliases(name))
            champion = current.get(CHAMPION)
            if champion != expected_champion:
                raise PromotionError(
                    f"the champion of {name!r} changed since evaluation: expected "
                    f"{_show(expected_champion)}, found {_show(champion)}; version {version} "
                    "was not promoted",
                    context={"model": name, "version": version},
                    fix="evaluate the challenger again against the current champion",
                )
            now = datetime.now(UTC)
            if champion == version:
                return PromotionResult(
                    name=name,
                    version=version,
                    previous_champion=champion,
                    changed=False,
                    promoted_at=now,
                )

            def move() -> None:
                client = self.client
                client.set_registered_model_alias(name, CHALLENGER, version)
                client.set_registered_model_alias(name, CHAMPION, version)
                if champion is not None:
                    client.set_registered_model_alias(name, PREVIOUS_CHAMPION, champion)
                client.set_model_version_tag(
                    name, version, "mlops.promoted_at", now.isoformat(timespec="seconds")
                )

            self._call("moving aliases", name, move)
        return PromotionResult(
            name=name,
            version=version,
            previous_champion=champion,
            changed=True,
            promoted_at=now,
        )


def _show(version: str | None) -> str:
    return "no champion" if version is None else f"version {version}"
