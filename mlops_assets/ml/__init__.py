"""The ML lifecycle core (no Dagster): split, train, log/register, evaluate, gate, promote, serve.

Modules, in lifecycle order (each imports its heavy dependencies lazily):

- :mod:`~mlops_assets.ml.tracking`: MLflow settings, runs tagged with Dagster provenance, links.
- :mod:`~mlops_assets.ml.split`: deterministic train/validation/test split by entity-key hash.
- :mod:`~mlops_assets.ml.training`: validated data -> fitted sklearn pipeline (+ optional search).
- :mod:`~mlops_assets.ml.model_store`: log with signature/example/pins, register, load.
- :mod:`~mlops_assets.ml.evaluation`: held-out metrics and plots; challenger vs champion.
- :mod:`~mlops_assets.ml.gates`: the pure promotion decision.
- :mod:`~mlops_assets.ml.registry`: aliases, decision records, compare-and-swap promotion.
- :mod:`~mlops_assets.ml.promotion`: challenger vs champion report, champion decision and move.
- :mod:`~mlops_assets.ml.lifecycle`: the stages above chained for one candidate model.
- :mod:`~mlops_assets.ml.serving`: a real ``mlflow models serve`` endpoint and its smoke test.
- :mod:`~mlops_assets.ml.inference`: signature enforcement and vectorised batch scoring.
- :mod:`~mlops_assets.ml.batch`: scoring a (lazy, any-engine) feature table by a version.
- :mod:`~mlops_assets.ml.columns`: the columns each step collects on the driver.
"""
