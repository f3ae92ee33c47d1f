"""Peer: a straightforward pandas script doing the medallion's steps for the churn use case.

What a data scientist would write without the project: read the CSV as text, cast with
``pd.to_numeric``/``pd.to_datetime(errors="coerce")``, flag the same rules, quarantine with the
first rule and every reason, keep the latest record per key, three gold tables, the feature table
with its 7-day rolling windows (``groupby().rolling("7D")``); every table written as a Delta
partition with delta-rs and read back by the next step. Same data, same outputs, no tuning.
"""

import shutil
from pathlib import Path
from typing import Any

from benchmarks.data import DAY, customer_files
from benchmarks.timing import bench_dir, timed

CONTRACTS = ["Month-to-month", "One year", "Two year"]
INTS = ["female", "senior_citizen", "partner", "dependents", "tenure", "phone_service"]
INTS += ["paperless_billing"]
FLOATS = ["monthly_charges", "total_charges"]


def pandas_medallion(root: str, day: str = DAY) -> dict[str, Any]:
    """bronze -> silver + quarantine -> gold -> features with pandas, one day.

    pandas is imported inside the timed region, as the job imports Polars, narwhals and delta-rs
    inside its own (the code location does not import them): each side pays its engine's import.
    """
    work = bench_dir("pandas")
    shutil.rmtree(work, ignore_errors=True)
    out: dict[str, Any] = {}
    with timed(out):
        import pandas as pd

        frames = []
        for path in customer_files(Path(root)):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            frame["_ingested_at"] = pd.Timestamp.now(tz="UTC")
            frame["_source_file"] = path.name
            frame["_row_number"] = range(1, len(frame) + 1)
            frames.append(frame)
        _write(pd.concat(frames, ignore_index=True), work / "bronze", day)
        silver, quarantine = _silver(_read(work / "bronze", day))
        _write(silver, work / "silver", day)
        _write(quarantine, work / "quarantine", day)
        silver = _read(work / "silver", day)
        kpis, latest, joined = _gold(silver)
        for name, table in (("kpis", kpis), ("latest", latest), ("benchmark", joined)):
            _write(table, work / name, day)
        _write(_features(silver, day), work / "features", day)
    out["rows"] = len(silver)
    out["quarantined"] = len(quarantine)
    shutil.rmtree(work, ignore_errors=True)
    return out


def _write(frame: Any, path: Path, day: str) -> None:
    from deltalake import write_deltalake

    write_deltalake(str(path), frame.assign(_partition_date=day), partition_by=["_partition_date"])


def _read(path: Path, day: str) -> Any:
    from deltalake import DeltaTable

    frame = DeltaTable(str(path)).to_pandas(filters=[("_partition_date", "=", day)])
    return frame.drop(columns=["_partition_date"])


def _silver(bronze: Any) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    text = bronze.apply(lambda c: c.str.strip() if c.dtype == object else c)
    typed = text.copy()
    problems: dict[str, Any] = {}
    for column in INTS + FLOATS:
        values = pd.to_numeric(text[column], errors="coerce")
        if column in INTS:
            bad = values.notna() & ~text[column].str.fullmatch(r"[+-]?[0-9]+", na=False)
            values = values.mask(bad).astype("Int64")
        problems[column] = text[column].notna() & values.isna()
        typed[column] = values
    stamps = pd.to_datetime(text["event_ts"], errors="coerce", utc=True, format="ISO8601")
    problems["event_ts"] = text["event_ts"].notna() & stamps.isna()
    typed["event_ts"] = stamps
    rules = {
        "schema_conformance": np.logical_or.reduce(list(problems.values())),
        "customer_id_not_null": typed["customer_id"].isna(),
        "event_ts_not_null": typed["event_ts"].isna(),
        "customer_id_matches_pattern": ~typed["customer_id"].str.fullmatch(r"C[0-9]{5}", na=True),
        "tenure_in_range": typed["tenure"].lt(0).fillna(False),
        "contract_accepted_values": typed["contract"].notna() & ~typed["contract"].isin(CONTRACTS),
        "monthly_charges_in_range": ~typed["monthly_charges"].between(0, 500)
        & typed["monthly_charges"].notna(),
        "total_charges_non_negative": typed["total_charges"].lt(0).fillna(False),
    }
    flags = pd.DataFrame(rules)
    failed = flags.any(axis=1)
    valid = typed[~failed]
    kept = valid.sort_values(["_ingested_at", "_source_file", "_row_number"]).drop_duplicates(
        ["customer_id", "event_ts"], keep="last"
    )
    superseded = valid.index.difference(kept.index)
    rejected = bronze.loc[failed].copy()
    rejected["_rule"] = flags[failed].idxmax(axis=1)
    rejected["_reason"] = flags[failed].apply(lambda row: "; ".join(row.index[row]), axis=1)
    duplicates = bronze.loc[superseded].assign(_rule="duplicate_key", _reason="duplicate_key")
    return kept, pd.concat([rejected, duplicates])


def _gold(silver: Any) -> tuple[Any, Any, Any]:
    kpis = (
        silver.groupby("contract")
        .agg(
            customers=("customer_id", "nunique"),
            observations=("customer_id", "size"),
            avg_monthly_charges=("monthly_charges", "mean"),
            avg_tenure=("tenure", "mean"),
        )
        .reset_index()
    )
    latest = silver.sort_values("event_ts").drop_duplicates("customer_id", keep="last")
    joined = latest.merge(kpis, on="contract", how="inner")
    joined["charge_vs_contract_avg"] = joined["monthly_charges"] / joined["avg_monthly_charges"]
    columns = ["customer_id", "event_ts", "contract", "monthly_charges", "avg_monthly_charges"]
    return kpis, latest, joined[[*columns, "charge_vs_contract_avg"]]


def _features(silver: Any, day: str) -> Any:
    import pandas as pd

    frame = silver.sort_values("event_ts")
    total = frame["total_charges"].fillna(0.0)
    features = pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "event_ts": frame["event_ts"],
            "tenure": frame["tenure"],
            "monthly_charges": frame["monthly_charges"],
            "total_charges": total,
            "charges_per_month_of_tenure": total / (frame["tenure"] + 1),
        }
    )
    for column in ["senior_citizen", "partner", "dependents", "paperless_billing", "contract"]:
        features[column] = frame[column]
    for column in ["internet_service", "payment_method", "tech_support", "online_security"]:
        features[column] = frame[column]
    rolling = (
        frame.set_index("event_ts")
        .groupby("customer_id")["monthly_charges"]
        .rolling("7D")
        .agg(["mean", "count"])
        .reset_index()
        .rename(columns={"mean": "monthly_charges_mean_7d", "count": "observations_7d"})
    )
    start = pd.Timestamp(day, tz="UTC")
    features = features.merge(rolling, on=["customer_id", "event_ts"], how="left")
    in_day = (features["event_ts"] >= start) & (features["event_ts"] < start + pd.Timedelta(1, "D"))
    return features[in_day]
