"""Core workflows that combine the ML and monitoring cores (no Dagster): what one training run
does, wherever it runs (the Dagster process or a Databricks job)."""
