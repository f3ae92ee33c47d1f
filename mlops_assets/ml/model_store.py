"""Log a trained pipeline as an MLflow model, register it, and load models back.

Models are saved with the scikit-learn flavour in the safe *skops* format. skops refuses to load
types it does not trust (tree models reference e.g. ``sklearn.tree._tree.Tree``); since the model
was trained in this very process, the exact list of types it contains is computed here and stored
with the model as its trusted types, so loading works without falling back to pickle.

The python_function flavour of a classifier serves ``predict_proba`` (``(n, 2)`` for a binary
model, ``(n, k)`` for a multiclass one), so an endpoint and batch scoring both get probabilities.
The task, the feature lists and (multiclass) the class labels in column order are written into the
MLmodel metadata (``mlops`` key).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig, Task, as_task
from mlops_assets.errors import MLOpsError, RegistryError
from mlops_assets.ml._deps import distribution_pin
from mlops_assets.ml.tracking import MlflowSettings, configure, qualified_model_uri

if TYPE_CHECKING:
    import polars as pl
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.pyfunc import PyFuncModel

    from mlops_assets.ml.training import TrainingResult

MODEL_ARTIFACT_NAME = "model"
ARTIFACTS_DIR = "mlops"
METADATA_KEY = "mlops"
ARTIFACT_TAG_PREFIX = "mlops.artifact."
"""Version tag ``mlops.artifact.<name>``: the ``runs:/`` URI of a file logged with the model."""


class ModelVersionInfo(BaseModel):
    """A registered model version, as the rest of the project refers to it."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Registered model name.")
    version: str = Field(description="Registered version number.")
    run_id: str | None = Field(description="MLflow run that produced it.")
    model_uri: str = Field(description="`models:/<name>/<version>`.")
    logged_model_uri: str | None = Field(description="Source (`models:/m-<id>` logged model).")
    registered_at: datetime = Field(description="Registration time (UTC).")
    aliases: list[str] = Field(default_factory=list, description="Aliases pointing at it.")
    tags: dict[str, str] = Field(default_factory=dict, description="Model version tags.")


def version_info(mv: ModelVersion) -> ModelVersionInfo:
    """Convert an MLflow ModelVersion entity."""
    return ModelVersionInfo(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id or None,
        model_uri=f"models:/{mv.name}/{mv.version}",
        logged_model_uri=mv.source or None,
        registered_at=datetime.fromtimestamp(int(mv.creation_timestamp) / 1000, tz=UTC),
        aliases=sorted(mv.aliases or []),
        tags=dict(mv.tags or {}),
    )


def artifact_uri(version: ModelVersionInfo, artifact: str) -> str | None:
    """The ``runs:/`` URI of an artifact logged with ``version`` (see :func:`log_and_register`).

    The one reader of the ``mlops.artifact.<name>`` tags; None when the version has no such file.
    """
    return version.tags.get(f"{ARTIFACT_TAG_PREFIX}{artifact}") or None


def pip_requirements(config: ModelConfig) -> list[str]:
    """Exact pins of what the model needs to load (explicit: MLflow need not infer them)."""
    import mlflow

    modules = ["sklearn", "skops", "numpy", "pandas", "scipy"]
    if config.flavor.type != "sklearn":
        modules.append(config.flavor.type)
    pins = [f"mlflow=={mlflow.__version__}"]
    pins += [pin for m in modules if (pin := distribution_pin(m)) is not None]
    return pins


def _trusted_types(pipeline: Any) -> list[str]:
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)))


def _model_metadata(config: ModelConfig, pipeline: Any) -> dict[str, Any]:
    from mlops_assets.ml.training import pipeline_classes

    classes = pipeline_classes(pipeline) if config.task == "multiclass" else None
    return {
        METADATA_KEY: {
            "task": config.task,
            "classes": classes,
            "label": config.label,
            "positive_label": config.positive_label,
            "entity_key": config.entity_key,
            "timestamp": config.timestamp,
            "numeric_features": list(config.numeric_features),
            "categorical_features": list(config.categorical_features),
        }
    }


def log_and_register(
    result: TrainingResult,
    config: ModelConfig,
    settings: MlflowSettings,
    input_example: pl.DataFrame,
    artifacts: dict[str, Path] | None = None,
    *,
    registered_name: str | None = None,
) -> ModelVersionInfo:
    """Log the trained pipeline (signature, input example, pinned requirements) and register it.

    The model is logged to the active MLflow run, or to the training run ``result.run_id``
    (resumed) when no run is active. ``artifacts`` (name -> file or folder) are logged next to it
    under ``mlops/<name>`` and referenced by ``mlops.artifact.<name>`` version tags.

    Args:
        registered_name: registry name; defaults to ``config.name``. A bare name is qualified
            with ``settings.model_namespace`` (``<catalog>.<schema>.<name>`` on Unity Catalog).

    Raises:
        SchemaMismatchError: the input example lacks feature columns.
        RegistryError: there is no run to log to, or MLflow refused to log or register.
    """
    import mlflow

    from mlops_assets.ml import frames  # numpy and polars: not at code-location load

    name = settings.model_name(registered_name or config.name)
    frames.check_columns(input_example, config, need_label=False, what="input example")
    example = frames.feature_frame(input_example.head(5), config)
    active = mlflow.active_run()
    if active is None and result.run_id is None:
        raise RegistryError(
            "log_and_register needs an MLflow run to log the model to",
            context={"model": name},
            fix="call it inside tracking.start_run(...) or pass the result of a logged training",
        )
    try:
        if active is None:
            configure(settings)
            with mlflow.start_run(run_id=result.run_id):
                return _log_and_register(result, config, example, artifacts or {}, name)
        return _log_and_register(result, config, example, artifacts or {}, name)
    except MLOpsError:
        raise
    except Exception as exc:  # MlflowException, OSError from the artifact store, ...
        raise RegistryError(
            f"could not log or register model {name!r}: {type(exc).__name__}: {exc}",
            context={"model": name, "tracking_uri": settings.tracking_uri},
            fix="check that the tracking server and artifact store are reachable and writable",
        ) from exc


def _log_and_register(
    result: TrainingResult,
    config: ModelConfig,
    example: Any,
    artifacts: dict[str, Path],
    name: str,
) -> ModelVersionInfo:
    import mlflow
    from mlflow.models import infer_signature

    pipeline = result.pipeline
    classification = config.task != "regression"
    output = pipeline.predict_proba(example) if classification else pipeline.predict(example)
    info = mlflow.sklearn.log_model(
        pipeline,
        name=MODEL_ARTIFACT_NAME,
        signature=infer_signature(example, output),
        input_example=example,
        pip_requirements=pip_requirements(config),
        serialization_format="skops",
        skops_trusted_types=_trusted_types(pipeline),
        pyfunc_predict_fn="predict_proba" if classification else "predict",
        metadata=_model_metadata(config, pipeline),
    )
    run = mlflow.active_run()
    if run is None:  # log_model above would have failed first
        raise RegistryError("no active MLflow run", context={"model": name})
    run_id = run.info.run_id
    tags = {
        "mlops.task": config.task,
        "mlops.estimator": result.estimator,
        "mlops.train_rows": str(result.n_train),
        **{f"mlops.val_{k}": repr(v) for k, v in result.validation_metrics.items()},
    }
    for key, path in artifacts.items():
        if not path.exists():
            raise RegistryError(
                f"artifact {key!r} does not exist: {path}",
                context={"artifact": key, "path": str(path)},
                fix="write the file before registering the model",
            )
        target = f"{ARTIFACTS_DIR}/{key}"
        if path.is_dir():
            mlflow.log_artifacts(str(path), artifact_path=target)
            tags[f"{ARTIFACT_TAG_PREFIX}{key}"] = f"runs:/{run_id}/{target}"
        else:
            mlflow.log_artifact(str(path), artifact_path=target)
            tags[f"{ARTIFACT_TAG_PREFIX}{key}"] = f"runs:/{run_id}/{target}/{path.name}"
    mv = mlflow.register_model(info.model_uri, name, tags=tags)
    client = mlflow.MlflowClient()
    summary = ", ".join(f"{k}={v:.4f}" for k, v in result.validation_metrics.items())
    client.update_model_version(
        name, mv.version, description=f"{result.estimator}; validation: {summary}"
    )
    if config.description:
        client.update_registered_model(name, description=config.description)
    return version_info(client.get_model_version(name, mv.version))


def load_pyfunc(uri: str, namespace: str | None = None) -> PyFuncModel:
    """Load a model as python_function (``models:/name/version``, ``models:/name@alias``, ...).

    Retried while MLflow is unreachable (:mod:`mlops_assets.ml.mlflow_retry`).

    Args:
        namespace: ``<catalog>.<schema>`` qualifying a bare registered name in ``uri``
            (``MlflowSettings.model_namespace``); None loads ``uri`` as given.

    Raises:
        MlflowUnavailableError: MLflow did not answer before the retry deadline.
        RegistryError: the model cannot be found or loaded.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from mlops_assets.ml.mlflow_retry import call_with_retry

    uri = qualified_model_uri(uri, namespace)
    try:
        model: PyFuncModel = call_with_retry(
            f"loading {uri}",
            lambda: mlflow.pyfunc.load_model(uri),
            target=mlflow.get_registry_uri(),
            context={"model_uri": uri},
        )
    except (MlflowException, OSError) as exc:
        raise RegistryError(
            f"could not load model {uri!r}: {exc}",
            context={"model_uri": uri, "tracking_uri": mlflow.get_tracking_uri()},
            fix="check the URI (name, version or alias) and the tracking/registry URI",
        ) from exc
    return model


def _section(model: PyFuncModel) -> dict[str, Any]:
    meta = model.metadata.metadata or {}
    section = meta.get(METADATA_KEY) or {}
    return section if isinstance(section, dict) else {}


def model_task(model: PyFuncModel) -> Task | None:
    """The task stored by :func:`log_and_register` (``classification`` read as ``binary``)."""
    task = _section(model).get("task")
    return as_task(str(task)) if task else None


def model_classes(model: PyFuncModel) -> list[str] | None:
    """A multiclass model's class labels, in ``predict_proba`` column order (None otherwise)."""
    classes = _section(model).get("classes")
    return [str(c) for c in classes] if isinstance(classes, list) else None
