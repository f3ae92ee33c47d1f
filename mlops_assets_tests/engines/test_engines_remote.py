"""Spark Connect sessions to a server outside the process (Sail here, a cluster in production).

pyspark switches the whole process into Connect mode with the first Connect session; these tests
pin down that a remote session and a classic one never silently share the process.
"""

import socket
import time
from pathlib import Path

import pytest

from mlops_assets.engines.spark import connect_remote, get_spark, is_connect, stop_spark
from mlops_assets.errors import EngineError
from mlops_assets_tests.engines.sail_server import SailServer, missing_reason, sail_executable


def test_a_remote_session_needs_a_spark_connect_url() -> None:
    with pytest.raises(EngineError, match="not a Spark Connect URL") as info:
        connect_remote("local[2]")
    assert info.value.fix is not None and "sc://" in info.value.fix


def test_no_server_is_an_engine_error_after_the_deadline() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    began = time.monotonic()
    with pytest.raises(EngineError, match="did not answer within 1 s") as info:
        connect_remote(f"sc://127.0.0.1:{port}", timeout_s=1.0)
    assert time.monotonic() - began < 30
    assert info.value.fix is not None and "make sail" in info.value.fix


@pytest.mark.spark
@pytest.mark.slow
def test_sail_serves_delta_and_the_process_returns_to_classic_spark(tmp_path: Path) -> None:
    if sail_executable() is None:
        pytest.skip(missing_reason())
    with SailServer(tmp_path / "sail") as server:
        assert server.started_in_s < server.settings.start_timeout_s
        session = connect_remote(
            server.url, conf={"spark.sql.warehouse.dir": str(server.warehouse)}
        )
        try:
            assert is_connect(session)
            assert session.conf.get("spark.sql.session.timeZone") == "UTC"
            session.range(5).write.format("delta").saveAsTable("main.mlops.five")
            assert session.table("main.mlops.five").count() == 5
            with pytest.raises(EngineError, match="remote server is active"):
                get_spark("classic")  # would break the remote session's functions
        finally:
            stop_spark(session)
        classic = get_spark("classic")
        assert not is_connect(classic)
        assert classic.range(3).count() == 3
        again = connect_remote(server.url)  # stops the local session first, as get_spark does
        try:
            assert classic.sparkContext._jsc is None  # stopped
            assert again.range(4).count() == 4  # (Sail's memory catalog is per session)
        finally:
            stop_spark(again)
    assert "error" not in server.log_path.read_text(errors="replace").lower()
