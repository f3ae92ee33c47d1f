"""The smoke-test request for a served model, built from its MLflow signature, and the check of
the answer.

Rows come from the model's saved input example (real values) restricted and ordered to the
signature's inputs; a model logged without an example gets synthetic rows typed from the
signature. An answer is accepted when it holds one prediction per row, each a finite number or a
row of finite numbers (``[P(0), P(1)]`` for our classifiers), as the signature's outputs declare.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.errors import ServingError

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

    from mlops_assets.ml.tracking import MlflowSettings

_SYNTHETIC: dict[str, Any] = {
    "boolean": False,
    "integer": 0,
    "long": 0,
    "float": 0.0,
    "double": 0.0,
    "string": "",
    "datetime": "2024-01-01T00:00:00",
    "binary": "",
}


class SmokeRequest(BaseModel):
    """A ``dataframe_split`` body: columns and rows, JSON-ready."""

    model_config = ConfigDict(frozen=True)

    columns: list[str] = Field(description="Input columns, in signature order.")
    data: list[list[Any]] = Field(description="Rows.")
    source: str = Field(description="`input_example` or `signature` (synthetic rows).")


def _signature(model_uri: str, settings: MlflowSettings | None) -> tuple[ModelSignature, Any]:
    import mlflow
    from mlflow.models import Model

    if settings is not None:
        # a models:/ URI resolves through the registry, which is process-wide in MLflow
        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.effective_registry_uri)
    try:
        model = Model.load(model_uri)
    except Exception as exc:
        raise ServingError(
            f"could not read the MLmodel of {model_uri}: {type(exc).__name__}: {exc}",
            context={"model_uri": model_uri},
            fix="check the registry URI and that the version exists",
        ) from exc
    if model.signature is None or model.signature.inputs is None:
        raise ServingError(
            f"model {model_uri} has no input signature to build a request from",
            context={"model_uri": model_uri},
            fix="log the model with a signature (inputs and outputs)",
        )
    return model.signature, model


def smoke_request(
    model_uri: str, rows: int, settings: MlflowSettings | None = None
) -> SmokeRequest:
    """Up to ``rows`` rows for ``model_uri``: its input example, else synthetic typed rows.

    With ``settings`` the model is read from those stores (this process's MLflow is pointed at
    them first), so the answer never depends on which store an earlier call left selected.
    """
    signature, model = _signature(model_uri, settings)
    columns = [c.name for c in signature.inputs.inputs if c.name is not None]
    example = None
    if model.saved_input_example_info is not None:
        example = model.load_input_example(model_uri)
    if example is not None and hasattr(example, "to_json") and set(columns) <= set(example.columns):
        frame = example[columns].head(rows)
        split = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
        return SmokeRequest(columns=columns, data=split["data"], source="input_example")
    types = [str(getattr(c.type, "name", c.type)).lower() for c in signature.inputs.inputs]
    row = [_SYNTHETIC.get(t, "") for t in types]
    return SmokeRequest(columns=columns, data=[list(row) for _ in range(rows)], source="signature")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def prediction_problem(predictions: Any, n_rows: int) -> str | None:
    """Why ``predictions`` are not a valid answer for ``n_rows`` rows (None when they are)."""
    if not isinstance(predictions, list):
        return f"expected a list of {n_rows} predictions, got {type(predictions).__name__}"
    if len(predictions) != n_rows:
        return f"expected {n_rows} predictions, got {len(predictions)}"
    widths = {len(p) if isinstance(p, list) else 0 for p in predictions}
    if len(widths) > 1:
        return f"rows of different widths: {sorted(widths)}"
    for p in predictions:
        values = p if isinstance(p, list) else [p]
        if not values or not all(_finite(v) for v in values):
            return f"not a finite number or row of numbers: {p!r}"
    return None
