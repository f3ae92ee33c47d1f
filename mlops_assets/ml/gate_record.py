"""What the gates decided about a model version, as recorded on it in MLflow: the one reader.

:meth:`mlops_assets.ml.registry.Registry.record_decision` writes a few ``gate.*`` tags (action,
passed, mode, reasons, the metrics as one JSON record, the run holding them as MLflow metrics);
:func:`gate_metrics` and :func:`recorded_gate_action` are the only code that reads them back.
"""

import json

from mlops_assets.ml.model_store import ModelVersionInfo

GATE_METRIC_PREFIX = "gate.metric."
"""Legacy: one string tag per gate metric (versions recorded before ``gate.metrics``)."""
GATE_METRICS_TAG = "gate.metrics"
"""The gate metrics as one JSON object (exact floats; travels with copied versions)."""
GATE_RUN_TAG = "gate.run_id"
"""The run holding the gate metrics as MLflow metrics (``gate.<metric>``)."""
GATE_RUN_METRIC_PREFIX = "gate."


def gate_metrics(version: ModelVersionInfo) -> dict[str, float]:
    """The held-out metrics the gates judged ``version`` on, by metric name (``roc_auc``, ...).

    The one reader of what :meth:`Registry.record_decision` writes: nothing else parses the
    registry's tags. Reads the ``gate.metrics`` JSON record (exact floats, copied with the
    version); versions recorded before it carry one ``gate.metric.<name>`` tag per metric.
    """
    record = version.tags.get(GATE_METRICS_TAG)
    if record is not None:
        values = json.loads(record)
        found = {str(k): float(v) for k, v in values.items()} if isinstance(values, dict) else {}
    else:
        found = {
            k.removeprefix(GATE_METRIC_PREFIX): float(v)
            for k, v in version.tags.items()
            if k.startswith(GATE_METRIC_PREFIX)
        }
    return {k.removeprefix("test_"): v for k, v in found.items()}


def recorded_gate_action(version: ModelVersionInfo) -> str | None:
    """The gate action :meth:`Registry.record_decision` wrote on ``version`` (None: never judged).

    Promotion trusts this record in MLflow, never a local state file: an edited evaluation
    report cannot move ``@champion`` to a version the gates did not promote.
    """
    action = version.tags.get("gate.action")
    if action is None:
        return None
    return action if version.tags.get("gate.passed") == "true" or action != "promote" else "reject"
