"""Build the demo workspace: generate, write ordinary files, ingest them like a user would.

Writing the generated frames to CSV/Parquet/TOML and loading them through the validated
ingest path means the demo exercises the same code as production data. Demo users get
random passwords, hashed in the users file and printed once (and kept, owner-readable
only, in LOGINS.txt next to the demo files).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from auditor.demo.generate import DemoWorkspace, generate_demo
from auditor.ingest.service import ingest_file, ingest_tasks_file
from auditor.settings import Settings
from auditor.store import Store, apply_migrations
from auditor.store.budgets import add_budget, add_goal
from auditor.store.loading import IngestReport
from auditor.users import load_users, make_user, save_users

LOGINS_FILE = "LOGINS.txt"


class DemoExistsError(RuntimeError):
    """The database already holds data; the demo will not mix into it without --force."""


@dataclass(frozen=True)
class DemoReport:
    task: str
    reports: tuple[IngestReport, ...]
    logins: tuple[tuple[str, str, str], ...]  # (username, role, password)
    seconds: float
    drift: dict[str, Any]


def build_demo(
    settings: Settings, *, n_items: int = 20_000, seed: int = 0, force: bool = False
) -> DemoReport:
    """Generate the demo project and load it into settings.db_path.

    Refuses (DemoExistsError) when the database already exists, unless force, which
    replaces it (atomically, once the new one is complete). The same seed rebuilds the
    same data; passwords are new each time.
    """
    clock = time.perf_counter()
    db = settings.db_path
    if db.exists() and not force:
        raise DemoExistsError(
            f"{db} already exists; `labelwatch demo --force` deletes and rebuilds it"
        )
    # Build beside the target and rename at the end, so that a crash leaves either the old
    # database or the complete new one, never a half-built workspace.
    building = db.with_name(db.name + ".building")
    building.unlink(missing_ok=True)
    demo = generate_demo(n_items=n_items, seed=seed)
    files = write_demo_files(demo, settings.demo_dir)
    store = Store(
        building, lock_timeout_s=settings.lock_timeout_s, memory_limit=settings.duckdb_memory_limit
    )
    with store.connect() as con:
        apply_migrations(con)
    ingest_tasks_file(store, files["tasks"])
    reports = tuple(
        ingest_file(
            store,
            files[kind],
            kind=kind,
            task=demo.task,
            chunk_rows=settings.ingest_chunk_rows,
            currency=demo.budget["currency"],
        )
        for kind in ("items", "lfs", "votes", "gold", "events")
    )
    _add_budget_and_goals(store, demo)
    os.replace(building, db)
    logins = _create_users(settings.users_file, settings.demo_dir / LOGINS_FILE, demo.users)
    return DemoReport(demo.task, reports, logins, time.perf_counter() - clock, demo.drift)


def write_demo_files(demo: DemoWorkspace, directory: Path) -> dict[str, Path]:
    """The demo as the files a team would hand labelwatch, plus truth.parquet for checks."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "tasks": directory / "tasks.toml",
        "items": directory / "items.parquet",
        "lfs": directory / "lfs.csv",
        "votes": directory / "votes.parquet",
        "gold": directory / "gold.csv",
        "events": directory / "events.csv",
        "truth": directory / "truth.parquet",
    }
    files["tasks"].write_text(task_definition_toml(demo.task_definition), "utf-8")
    demo.items.to_parquet(files["items"], index=False)
    demo.lfs.to_csv(files["lfs"], index=False)
    demo.votes.to_parquet(files["votes"], index=False)
    demo.gold.to_csv(files["gold"], index=False)
    demo.events.to_csv(files["events"], index=False)
    demo.truth.to_parquet(files["truth"], index=False)
    return files


def task_definition_toml(definition: dict[str, Any]) -> str:
    """TOML text for one task definition (JSON string quoting is valid TOML)."""
    lines = ["[[task]]", f"name = {json.dumps(definition['name'])}"]
    if definition.get("description"):
        lines.append(f"description = {json.dumps(definition['description'])}")
    for sub in definition["subtasks"]:
        lines += ["", "[[task.subtask]]"]
        for key in ("name", "parent", "parent_label", "description", "manual_cost_per_label"):
            if sub.get(key) is not None:
                lines.append(f"{key} = {json.dumps(str(sub[key]))}")
        lines.append(f"labels = {json.dumps(list(sub['labels']))}")
    return "\n".join(lines) + "\n"


def _add_budget_and_goals(store: Store, demo: DemoWorkspace) -> None:
    budget = demo.budget
    with store.transaction() as con:
        budget_id = add_budget(
            con,
            task=demo.task,
            name=budget["name"],
            amount=Decimal(str(budget["amount"])),
            currency=budget["currency"],
            period_start=_date(budget["period_start"]),
            period_end=_date(budget["period_end"]),
            changed_by="demo",
        )
        for goal in demo.goals:
            add_goal(
                con,
                task=demo.task,
                kind=goal["kind"],
                target=float(goal["target"]),
                budget_id=budget_id,
                params=goal.get("params"),
            )


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _create_users(
    users_file: Path, logins_file: Path, users: list[tuple[str, str]]
) -> tuple[tuple[str, str, str], ...]:
    existing = load_users(users_file)
    logins = []
    for username, role in users:
        password = secrets.token_urlsafe(12)
        existing[username] = make_user(username, role, password)
        logins.append((username, role, password))
    save_users(users_file, existing)
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Demo logins (random, made by `labelwatch demo`; demo workspace only)\n")
        handle.writelines(f"{u}\t{r}\t{p}\n" for u, r, p in logins)
    return tuple(logins)
