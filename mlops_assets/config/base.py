"""The base of every configuration model (strict, immutable, documented) and shared field types."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mlops_assets.config.problems import looks_like_secret_not_name, mask

ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class StrictModel(BaseModel):
    """Unknown keys are errors; instances are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)


def _variable_name(value: str) -> str:
    if looks_like_secret_not_name(value):
        raise ValueError(
            f"looks like a secret value, not a variable name: {mask(value)}; write the NAME of "
            "the environment variable holding it (e.g. DATABRICKS_TOKEN) and export the value"
        )
    return value


EnvVarName = Annotated[str, Field(pattern=ENV_NAME_PATTERN), AfterValidator(_variable_name)]
"""The NAME of an environment variable holding a secret (never the secret itself)."""
