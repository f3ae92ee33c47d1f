"""One exception hierarchy for the whole project.

Every error carries a human message, a mapping of context (file, key path, table, column, ...)
and a suggested fix, so a user can act on it without reading a traceback.
"""

from collections.abc import Mapping


class MLOpsError(Exception):
    """Base class of every error raised on purpose by mlops_assets."""

    def __init__(
        self,
        message: str,
        *,
        context: Mapping[str, object] | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.context: dict[str, object] = dict(context or {})
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [self.message]
        if self.context:
            parts.append("  context: " + ", ".join(f"{k}={v!r}" for k, v in self.context.items()))
        if self.fix:
            parts.append(f"  fix: {self.fix}")
        return "\n".join(parts)


class ConfigError(MLOpsError):
    """A configuration file is missing, malformed or invalid."""


class DataValidationError(MLOpsError):
    """Data does not satisfy its declared schema or a blocking rule."""


class SchemaMismatchError(DataValidationError):
    """Columns or types differ from what the table or model expects."""


class StorageError(MLOpsError):
    """Reading or writing a table failed."""


class EngineError(MLOpsError):
    """A compute engine (Polars, Spark) could not be created or used."""


class ModelError(MLOpsError):
    """Base class of errors in the model lifecycle."""


class TrainingError(ModelError):
    """Training could not produce a model."""


class EvaluationError(ModelError):
    """A model could not be evaluated."""


class PromotionError(ModelError):
    """A registry alias could not be moved."""


class RegistryError(ModelError):
    """The model registry refused an operation or holds no such model."""


class ServingError(ModelError):
    """A serving endpoint could not be started or did not answer correctly."""


class MonitoringError(MLOpsError):
    """Base class of monitoring errors."""


class InsufficientDataError(MonitoringError):
    """Too few rows to reach a verdict."""


class AlertError(MonitoringError):
    """An alert could not be delivered."""


class DatabricksError(MLOpsError):
    """A Databricks API call failed or was refused."""


class UnapprovedModelError(RegistryError):
    """A model version about to score or serve has no passing gate decision recorded in MLflow
    (and no audited override)."""


class MlflowUnavailableError(RegistryError):
    """MLflow (tracking or registry) did not answer before the retry deadline."""
