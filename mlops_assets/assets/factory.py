"""Every asset of a use case, generated from its configuration."""

import dagster as dg

from mlops_assets.assets.features.tables import build_feature_asset
from mlops_assets.assets.features.training_set import build_training_set_asset
from mlops_assets.assets.medallion.bronze import build_bronze_asset
from mlops_assets.assets.medallion.gold import build_gold_asset
from mlops_assets.assets.medallion.silver import build_silver_assets
from mlops_assets.config.use_case import UseCaseConfig


def build_data_assets(uc: UseCaseConfig) -> list[dg.AssetsDefinition]:
    """Bronze, silver (+quarantine, checks), gold and feature tables: daily partitioned."""
    assets: list[dg.AssetsDefinition] = []
    for ds in uc.datasets:
        assets.append(build_bronze_asset(uc, ds))
        assets.append(build_silver_assets(uc, ds))
    assets.extend(build_gold_asset(uc, table) for table in uc.gold)
    assets.extend(build_feature_asset(uc, table) for table in uc.feature_tables)
    return assets


def build_use_case_assets(uc: UseCaseConfig) -> list[dg.AssetsDefinition]:
    """All assets of one use case."""
    assets = build_data_assets(uc)
    if uc.training_set is not None:
        assets.append(build_training_set_asset(uc))
    if uc.model is not None:
        from mlops_assets.assets.ml.deployment import build_deployment_asset
        from mlops_assets.assets.ml.evaluation import build_evaluation_assets
        from mlops_assets.assets.ml.inference import build_inference_asset
        from mlops_assets.assets.ml.training import build_training_asset

        assets.append(build_training_asset(uc))
        assets.extend(build_evaluation_assets(uc))
        assets.append(build_deployment_asset(uc))
        assets.append(build_inference_asset(uc))

        from mlops_assets.assets.monitoring.drift import build_drift_asset
        from mlops_assets.assets.monitoring.performance import build_performance_asset

        assets.append(build_drift_asset(uc))
        assets.append(build_performance_asset(uc))
    return assets
