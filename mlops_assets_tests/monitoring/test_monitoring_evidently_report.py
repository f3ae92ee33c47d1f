"""The Evidently HTML report: real HTML on disk, and its verdict in our schema."""

import math
from pathlib import Path

from mlops_assets.config.monitoring import ColumnDriftConfig, DriftConfig
from mlops_assets.monitoring.evidently_report import render_report
from mlops_assets.monitoring.profile import build_profile
from mlops_assets.monitoring.statistics import compute_drift
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame


def test_report_writes_html_and_agrees_with_our_statistics(tmp_path: Path) -> None:
    config = DriftConfig(per_column={"cat_flag": ColumnDriftConfig(method="jensenshannon")})
    reference = make_frame(3_000, seed=1)
    current = make_frame(2_000, seed=2, mean=0.4, plan_mix=(0.3, 0.3, 0.4))
    out = tmp_path / "reports" / "drift.html"

    # Both samples fit in sample_size: Evidently sees exactly the rows we do.
    theirs = render_report(
        reference, current, NUMERIC, CATEGORICAL, out, sample_size=5_000, seed=0, config=config
    )
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert html.rstrip().endswith("</html>") and out.stat().st_size > 100_000
    for column in NUMERIC + CATEGORICAL:
        assert column in html
    assert not (tmp_path / "reports" / "drift.html.tmp").exists()

    ours = compute_drift(current, build_profile(reference, NUMERIC, CATEGORICAL, config), config)
    assert theirs.engine == "evidently" and ours.engine == "mlops_assets"
    assert (theirs.n_reference, theirs.n_current) == (3_000, 2_000)
    assert theirs.column("cat_flag").method == "jensenshannon"
    for col in ours.columns:
        other = theirs.column(col.column)
        assert (other.method, other.drifted, other.column_type) == (
            col.method,
            col.drifted,
            col.column_type,
        )
        assert col.statistic is not None and other.statistic is not None
        assert math.isclose(col.statistic, other.statistic, rel_tol=1e-9)
    assert theirs.status == ours.status == "drift"


def test_report_samples_large_frames(tmp_path: Path) -> None:
    reference = make_frame(4_000, seed=3)
    current = make_frame(6_000, seed=4)
    result = render_report(
        reference, current, NUMERIC[:2], CATEGORICAL[:1], tmp_path / "r.html", sample_size=500
    )
    assert (result.n_reference, result.n_current) == (500, 500)
    assert [c.column for c in result.columns] == NUMERIC[:2] + CATEGORICAL[:1]
    # 500 reference rows: Evidently switches to p-value tests.
    assert {c.method for c in result.columns} <= {"ks", "chisquare", "ztest"}
