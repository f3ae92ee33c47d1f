"""The project's Dagster Components: a use case is one ``UseCaseComponent`` instance.

Registered with dg through ``[tool.dg.project] registry_modules`` in pyproject.toml, so
``dg list components`` shows it and ``dg scaffold defs mlops_assets.components.UseCaseComponent
<name>`` writes ``mlops_assets/defs/<name>/defs.yaml``.
"""

from mlops_assets.components.use_case import UseCaseComponent

__all__ = ["UseCaseComponent"]
