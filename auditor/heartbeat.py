"""The scheduler's heartbeat: a small JSON file next to the database, rewritten atomically.

A file, not a table row, so that a health check never waits for the DuckDB lock and a
container health check can read it from the shared volume. `labelwatch health` exits 0
while it is fresh; `labelwatch status` shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any

from auditor.settings import Settings


def heartbeat_path(settings: Settings) -> Path:
    return settings.data_dir / "scheduler.heartbeat"


def write_heartbeat(path: Path, state: dict[str, Any]) -> None:
    """Write state plus updated_at (UTC ISO) and pid; readers never see a partial file."""
    body = {**state, "pid": os.getpid(), "updated_at": _now().isoformat()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(body, default=str), "utf-8")
    os.replace(tmp, path)


def read_heartbeat(path: Path) -> dict[str, Any] | None:
    """The last heartbeat, or None when there is none (or it cannot be read)."""
    try:
        return dict(json.loads(path.read_text("utf-8")))
    except (FileNotFoundError, ValueError):
        return None


def heartbeat_age_s(beat: dict[str, Any] | None, *, now: dt.datetime | None = None) -> float:
    """Seconds since the heartbeat; inf when there is none."""
    if not beat or "updated_at" not in beat:
        return float("inf")
    updated = dt.datetime.fromisoformat(str(beat["updated_at"]))
    return ((now or _now()) - updated).total_seconds()


def liveness(settings: Settings) -> dict[str, Any]:
    """{alive, age_s, state, running, pid}: alive = a heartbeat younger than
    heartbeat_max_age_s whose state is not 'stopped'."""
    beat = read_heartbeat(heartbeat_path(settings))
    age = heartbeat_age_s(beat)
    state = (beat or {}).get("state", "never started")
    return {
        "alive": age <= settings.heartbeat_max_age_s and state != "stopped",
        "age_s": age,
        "state": state,
        "running": (beat or {}).get("running"),
        "pid": (beat or {}).get("pid"),
        "updated_at": (beat or {}).get("updated_at"),
    }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
