"""The names of a use case's tables and state, in one place: ``[use_case, layer, name]``.

Asset keys (the Dagster layer), lakehouse locations, sensors and the CLI all derive from these
:class:`TableRef` values, so a name is never rebuilt from strings elsewhere.
"""

from mlops_assets.config.tables import TrainingSetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.storage.lakehouse import TableRef

QUARANTINE_SUFFIX = "_quarantine"


class UseCaseTables:
    """Every table, model and state name of one use case."""

    def __init__(self, uc: UseCaseConfig) -> None:
        self.uc = uc
        self.use_case = uc.name

    def ref(self, layer: str, name: str) -> TableRef:
        return TableRef(use_case=self.use_case, layer=layer, name=name)

    def table(self, dotted: str) -> TableRef:
        """``silver.customers`` -> ``[use_case, silver, customers]``."""
        layer, name = dotted.split(".", 1)
        return self.ref(layer, name)

    # medallion
    def bronze(self, dataset: str) -> TableRef:
        return self.ref("bronze", dataset)

    def silver(self, dataset: str) -> TableRef:
        return self.ref("silver", dataset)

    def quarantine(self, dataset: str) -> TableRef:
        return self.ref("silver", f"{dataset}{QUARANTINE_SUFFIX}")

    def gold(self, name: str) -> TableRef:
        return self.ref("gold", name)

    def features(self, name: str) -> TableRef:
        return self.ref("features", name)

    # model lifecycle
    @property
    def training_config(self) -> TrainingSetConfig:
        if self.uc.training_set is None:
            raise ConfigError(
                f"use case {self.use_case!r} has no training_set",
                context={"use_case": self.use_case},
                fix="add a `training_set:` section to the use case",
            )
        return self.uc.training_set

    @property
    def training_set(self) -> TableRef:
        return self.features(self.training_config.name)

    @property
    def feature_table(self) -> TableRef:
        """The feature table the model trains on and scores."""
        return self.features(self.training_config.feature_table)

    @property
    def labels(self) -> TableRef:
        return self.table(self.training_config.labels)

    @property
    def model_name(self) -> str:
        if self.uc.model is None:
            raise ConfigError(
                f"use case {self.use_case!r} has no model",
                context={"use_case": self.use_case},
                fix="add a `model:` section to the use case",
            )
        return self.uc.model.name

    @property
    def model(self) -> TableRef:
        return self.ref("models", self.model_name)

    @property
    def evaluation(self) -> TableRef:
        return self.ref("models", "evaluation")

    @property
    def champion(self) -> TableRef:
        return self.ref("models", "champion")

    @property
    def endpoint(self) -> TableRef:
        return self.ref("serving", "endpoint")

    @property
    def predictions(self) -> TableRef:
        return self.ref("inference", "predictions")

    # monitoring
    @property
    def drift(self) -> TableRef:
        return self.ref("monitoring", "drift")

    @property
    def performance(self) -> TableRef:
        return self.ref("monitoring", "performance")
