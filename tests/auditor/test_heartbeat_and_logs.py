"""The heartbeat file, `labelwatch health` / `status`, and JSON-lines logging."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.heartbeat import heartbeat_age_s, heartbeat_path, liveness, write_heartbeat
from auditor.logs import JsonLinesFormatter, configure_logging
from auditor.settings import load_settings
from auditor.store import Store


def test_heartbeat_freshness_and_health_exit_codes(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(env={}, overrides={"db_path": store.path})
    db = ["--db", str(store.path)]
    assert not liveness(settings)["alive"] and main([*db, "health"]) == 1
    write_heartbeat(heartbeat_path(settings), {"state": "running", "running": "fuse/t"})
    assert liveness(settings)["alive"] and main([*db, "health"]) == 0
    capsys.readouterr()
    assert main([*db, "status"]) == 0
    assert (
        "scheduler: alive (running, heartbeat 0 s ago, running fuse/t)" in capsys.readouterr().out
    )
    beat = json.loads(heartbeat_path(settings).read_text())
    later = dt.datetime.fromisoformat(beat["updated_at"]) + dt.timedelta(seconds=500)
    assert heartbeat_age_s(beat, now=later) == pytest.approx(500, abs=1)
    write_heartbeat(heartbeat_path(settings), {"state": "stopped"})
    assert main([*db, "health"]) == 1


def test_no_partial_heartbeat_file_is_ever_left(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.heartbeat"
    for i in range(20):
        write_heartbeat(path, {"state": "running", "i": i})
    assert [p.name for p in tmp_path.iterdir()] == ["scheduler.heartbeat"]
    assert json.loads(path.read_text())["i"] == 19


def test_json_lines_carry_the_extra_fields() -> None:
    record = logging.LogRecord(
        "labelwatch.jobs", logging.INFO, __file__, 1, "job %s", ("fuse",), None
    )
    record.job, record.rows_written = "fuse", 12
    line = json.loads(JsonLinesFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == (
        "info",
        "labelwatch.jobs",
        "job fuse",
    )
    assert (line["job"], line["rows_written"]) == ("fuse", 12)
    with pytest.raises(ValueError, match="log_format"):
        configure_logging("xml")
