"""The local instance's concurrency pools: ``mlops_promotion`` gets one slot, so two promotions
never run at once (a pool without a limit would serialise nothing).

A real Dagster instance from the ``dagster.yaml`` that :func:`ensure_dagster_home` writes (SQLite
storage, as ``mlops-assets dev`` uses it); a real run of an asset in the pool.
"""

from pathlib import Path

import dagster as dg

from mlops_assets.cli.instance import DAGSTER_YAML, POOL_DEFAULT_LIMIT, ensure_dagster_home
from mlops_assets.ml.pools import PROMOTION_POOL


def test_the_instance_reports_a_limit_of_one_for_unconfigured_pools(tmp_path: Path) -> None:
    home = ensure_dagster_home(tmp_path / "home")
    assert "default_limit: 1" in DAGSTER_YAML and POOL_DEFAULT_LIMIT == 1
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.supports_global_concurrency_limits
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


def test_a_second_claim_on_the_promotion_pool_waits_while_a_promotion_runs(
    tmp_path: Path,
) -> None:
    home = ensure_dagster_home(tmp_path / "home")
    seen: dict[str, object] = {}

    @dg.asset(pool=PROMOTION_POOL)
    def promote(context: dg.AssetExecutionContext) -> None:
        """Stands for the champion asset: while it runs, another promoter asks for a slot."""
        storage = context.instance.event_log_storage
        info = storage.get_concurrency_info(PROMOTION_POOL)
        seen["slots"] = info.slot_count
        seen["holders"] = [(s.run_id, s.step_key) for s in info.claimed_slots]
        other = storage.claim_concurrency_slot(PROMOTION_POOL, "other-run", "other_promotion")
        seen["other_claimed"] = other.is_claimed
        storage.free_concurrency_slot_for_step("other-run", "other_promotion")

    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize([promote], instance=instance)
        assert result.success
        assert seen == {
            "slots": 1,
            "holders": [(result.run_id, "promote")],
            "other_claimed": False,  # blocked: the one slot is held by the running promotion
        }
        storage = instance.event_log_storage
        limits = {p.name: p.limit for p in storage.get_pool_limits()}
        assert limits[PROMOTION_POOL] == 1
        # the run finished: its slot is free, the next promotion gets it at once
        after = storage.claim_concurrency_slot(PROMOTION_POOL, "next-run", "next_promotion")
        assert after.is_claimed
        storage.free_concurrency_slot_for_step("next-run", "next_promotion")
