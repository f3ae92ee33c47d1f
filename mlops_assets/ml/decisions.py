"""What evaluation and promotion decided, as typed records shared by assets, sensors and the CLI."""

from pydantic import BaseModel, Field

from mlops_assets.ml.gates import GateDecision


class EvaluationReport(BaseModel):
    """The evaluation of one challenger, with the gate decision."""

    model_name: str = Field(description="Registered model.")
    challenger_version: str = Field(description="Version evaluated.")
    champion_version: str | None = Field(description="Champion it was compared with, if any.")
    challenger_metrics: dict[str, float] = Field(description="Held-out metrics.")
    champion_metrics: dict[str, float] | None = Field(description="Champion, same rows.")
    n_test: int = Field(description="Held-out rows.")
    decision: GateDecision = Field(description="What the gates decided and why.")
    mlflow_run_id: str = Field(description="The evaluation run.")


class ChampionState(BaseModel):
    """Which version serves as ``@champion`` after a promotion step."""

    model_name: str = Field(description="Registered model.")
    champion_version: str | None = Field(description="Current champion, if any.")
    champion_uri: str | None = Field(description="`models:/<name>@champion` when there is one.")
    promoted: bool = Field(description="Whether this step moved @champion.")
    previous_champion: str | None = Field(description="Champion before this step.")
    reason: str = Field(description="Why the champion changed or was kept.")
