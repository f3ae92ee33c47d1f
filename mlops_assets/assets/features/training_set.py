"""The point-in-time-correct training set: each label joined to features known at its time."""

from typing import cast

import dagster as dg

from mlops_assets.assets.features.run_config import (
    TrainingSetRunConfigBase,
    training_set_run_config,
)
from mlops_assets.assets.keys import group, key, table_key
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, persist, row_count
from mlops_assets.errors import DataValidationError
from mlops_assets.resources.metadata import counts_table


def build_training_set_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """Unpartitioned: all labelled observations so far, with their as-of features."""
    assert uc.training_set is not None
    ts = uc.training_set
    ft = uc.feature_table(ts.feature_table)
    every = dg.AllPartitionMapping()
    run_config_cls = training_set_run_config(ts)

    @dg.asset(
        key=key(uc.name, "features", ts.name),
        ins={
            "features": dg.AssetIn(key=key(uc.name, "features", ft.name), partition_mapping=every),
            "labels": dg.AssetIn(key=table_key(uc.name, ts.labels), partition_mapping=every),
        },
        group_name=group(uc.name, "features"),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars"},
        owners=uc.owners or None,
        description=f"Labels `{ts.label_column}` from `{ts.labels}` joined point-in-time to "
        f"`{ft.name}`: a label at time t only sees feature rows stamped at or before t.",
    )
    def _training_set(
        context: dg.AssetExecutionContext,
        config: run_config_cls,  # type: ignore[valid-type]  # built per use case
        features: LazyFrame,
        labels: LazyFrame,
    ) -> LazyFrame:
        import narwhals as nw

        from mlops_assets.transforms.features import point_in_time_join

        run_config = cast(TrainingSetRunConfigBase, config)
        run_labels = run_config.labels(labels, ts)
        joined = persist(point_in_time_join(run_labels, features, run_config.training_set(ts), ft))
        matched = ~nw.col("feature_ts").is_null()
        summary = joined.select(
            nw.len().alias("labels"),
            # Spark sums no booleans and has no length-changing expressions (Expr.filter)
            matched.cast(nw.Int64).sum().alias("matched"),
            nw.when(matched).then(nw.col(ts.label_timestamp)).min().cast(nw.String).alias("first"),
            nw.when(matched).then(nw.col(ts.label_timestamp)).max().cast(nw.String).alias("last"),
        ).collect()
        n_labels, n_matched = int(summary["labels"][0]), int(summary["matched"][0] or 0)
        if n_matched == 0:
            raise DataValidationError(
                f"training set is empty: none of {n_labels} labels has a feature row at or "
                "before its timestamp",
                context={"labels": n_labels, "feature_rows": row_count(features)},
                fix="materialize the feature table for the days the labels refer to",
            )
        result = joined.filter(matched)
        by_label = result.group_by(ts.label_column).agg(nw.len().alias("rows")).collect()
        context.add_output_metadata(
            {
                "labels": n_labels,
                "labels_without_features": n_labels - n_matched,
                "label_counts": counts_table(
                    {
                        str(k): int(v)
                        for k, v in zip(by_label[ts.label_column], by_label["rows"], strict=True)
                    },
                    ts.label_column,
                    "rows",
                ),
                "first_label_ts": str(summary["first"][0]),
                "last_label_ts": str(summary["last"][0]),
                **run_config_metadata(run_config),
            }
        )
        if n_labels > n_matched:
            context.log.warning(
                f"{n_labels - n_matched} labels have no feature row at or before their time; "
                "they are left out of the training set (counted in metadata)"
            )
        return result

    return _training_set
