"""The point-in-time-correct training set: each label joined to features known at its time."""

import dagster as dg
import narwhals as nw
import polars as pl

from mlops_assets.assets.keys import group, key, table_key
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import DataValidationError
from mlops_assets.resources.metadata import counts_table


def build_training_set_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """Unpartitioned: all labelled observations so far, with their as-of features."""
    assert uc.training_set is not None
    ts = uc.training_set
    ft = uc.feature_table(ts.feature_table)
    every = dg.AllPartitionMapping()

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
        context: dg.AssetExecutionContext, features: pl.DataFrame, labels: pl.DataFrame
    ) -> pl.DataFrame:
        from mlops_assets.transforms.features import point_in_time_join

        joined: pl.DataFrame = (
            point_in_time_join(
                nw.from_native(labels).lazy(), nw.from_native(features).lazy(), ts, ft
            )
            .collect()
            .to_native()
        )
        unmatched = joined.filter(pl.col("feature_ts").is_null())
        result = joined.filter(pl.col("feature_ts").is_not_null())
        if result.height == 0:
            raise DataValidationError(
                f"training set is empty: none of {labels.height} labels has a feature row at or "
                "before its timestamp",
                context={"labels": labels.height, "feature_rows": features.height},
                fix="materialize the feature table for the days the labels refer to",
            )
        context.add_output_metadata(
            {
                "labels": labels.height,
                "labels_without_features": unmatched.height,
                "label_counts": counts_table(
                    {str(k): int(v) for k, v in result[ts.label_column].value_counts().rows()},
                    ts.label_column,
                    "rows",
                ),
                "first_label_ts": str(result[ts.label_timestamp].min()),
                "last_label_ts": str(result[ts.label_timestamp].max()),
            }
        )
        if unmatched.height:
            context.log.warning(
                f"{unmatched.height} labels have no feature row at or before their time; "
                "they are left out of the training set (counted in metadata)"
            )
        return result

    return _training_set
