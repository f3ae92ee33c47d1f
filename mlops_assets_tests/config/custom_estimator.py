"""A user's own estimator class, for the `allowed_estimators` tests (no scikit-learn import)."""

from typing import Any


class MeanClassifier:
    """Predicts the training share of positives for every row."""

    def __init__(self, floor: float = 0.0) -> None:
        self.floor = floor
        self.share = 0.0

    def fit(self, features: Any, labels: Any) -> "MeanClassifier":
        values = list(labels)
        self.share = max(self.floor, sum(values) / len(values)) if values else self.floor
        return self

    def predict_proba(self, features: Any) -> list[list[float]]:
        return [[1.0 - self.share, self.share] for _ in range(len(features))]


not_a_class = MeanClassifier  # a lowercase name: never accepted as an estimator path
