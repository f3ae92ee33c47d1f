"""Promotion across machines: the champion asset runs in the Dagster concurrency pool
``mlops_promotion`` (limit 1 per deployment) on top of the compare-and-swap on ``@champion``."""

import dagster as dg

from mlops_assets.assets.factory import build_use_case_assets
from mlops_assets.config.project import load_project
from mlops_assets.ml.pools import PROMOTION_POOL
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.conftest import CONFIGS_DIR


def test_only_the_champion_asset_is_in_the_promotion_pool() -> None:
    environ = {"MLOPS_DATA_DIR": "/nonexistent"}
    uc = load_project(CONFIGS_DIR, env="local", environ=environ).use_case("churn")
    pools = {
        key.to_user_string(): asset.op.pool
        for asset in build_use_case_assets(uc)
        for key in asset.keys
    }
    champion = dg.AssetKey(UseCaseTables(uc).champion.parts).to_user_string()
    assert PROMOTION_POOL == "mlops_promotion"
    assert pools[champion] == PROMOTION_POOL
    assert [k for k, pool in pools.items() if pool == PROMOTION_POOL] == [champion]
