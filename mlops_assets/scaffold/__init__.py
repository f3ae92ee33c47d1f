"""Scaffold a use case from a sample table (`mlops-assets init NAME --from-table FILE`).

`profile.profile_table` reads the sample once with vectorised Polars expressions and guesses the
roles (entity id, event time, label and task); `render.render_use_case` writes the commented YAML,
every guess marked `# REVIEW`. The result validates as it is, and `simulate` + `demo` run it.
"""

from mlops_assets.scaffold.datasets import REVIEW
from mlops_assets.scaffold.profile import ColumnProfile, TableProfile, profile_table
from mlops_assets.scaffold.render import render_use_case

__all__ = ["REVIEW", "ColumnProfile", "TableProfile", "profile_table", "render_use_case"]
