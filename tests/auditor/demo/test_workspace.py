"""build_demo: the generated frames land in the store through the validated ingest path."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from auditor.demo.generate import DemoWorkspace, generate_demo
from auditor.demo.workspace import LOGINS_FILE, DemoExistsError, DemoReport, build_demo
from auditor.settings import Settings, load_settings
from auditor.store import Store
from auditor.users import load_users, verify_password
from tests.conftest import rows

N_ITEMS = 1500
COUNTED = {
    "items": "items",
    "labeling_functions": "lfs",
    "votes": "votes",
    "gold_labels": "gold",
    "annotation_events": "events",
}


def _settings(directory: Path) -> Settings:
    return load_settings(
        env={},
        overrides={
            "db_path": directory / "data" / "lw.duckdb",
            "users_file": directory / "data" / "users.toml",
            "demo_dir": directory / "data" / "demo",
        },
    )


@pytest.fixture(scope="module")
def frames() -> DemoWorkspace:
    return generate_demo(n_items=N_ITEMS)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, DemoReport]:
    settings = _settings(tmp_path_factory.mktemp("demo"))
    return settings, build_demo(settings, n_items=N_ITEMS)


def _counts(settings: Settings) -> dict[str, int]:
    store = Store(settings.db_path)
    return {table: rows(store, f"SELECT count(*) FROM {table}")[0][0] for table in COUNTED}


def test_store_counts_equal_the_generated_frames(
    built: tuple[Settings, DemoReport], frames: DemoWorkspace
) -> None:
    settings, report = built

    expected = {table: len(getattr(frames, attr)) for table, attr in COUNTED.items()}
    assert _counts(settings) == expected
    assert expected["items"] == N_ITEMS
    assert expected["labeling_functions"] == 21
    assert report.task == frames.task == "support_tickets"
    assert [(r.kind, r.rows_read, r.inserted, r.quarantined) for r in report.reports] == [
        (kind, len(getattr(frames, kind)), len(getattr(frames, kind)), 0)
        for kind in ("items", "lfs", "votes", "gold", "events")
    ]


def test_nothing_quarantined_and_budget_and_goals_added(built: tuple[Settings, DemoReport]) -> None:
    settings, _ = built
    store = Store(settings.db_path)

    assert rows(store, "SELECT count(*) FROM quarantine") == [(0,)]
    assert rows(store, "SELECT sum(quarantined) FROM ingestions") == [(0,)]
    assert rows(store, "SELECT name, currency FROM budgets") == [("Q4 annotation", "USD")]
    assert rows(store, "SELECT kind FROM goals ORDER BY goal_id") == [
        ("reduce_hours",),
        ("accuracy_within_budget",),
        ("max_cost_per_correct_label",),
    ]
    assert rows(
        store, "SELECT count(*) FROM goals WHERE budget_id = (SELECT budget_id FROM budgets)"
    ) == [(3,)]
    assert rows(store, "SELECT name FROM tasks") == [("support_tickets",)]


def test_users_file_holds_only_argon2_hashes(built: tuple[Settings, DemoReport]) -> None:
    settings, report = built
    users = load_users(settings.users_file)

    assert [(u, r) for u, r, _ in report.logins] == [
        ("admin", "admin"),
        ("auditor", "auditor"),
        ("viewer", "viewer"),
    ]
    assert sorted(users) == ["admin", "auditor", "viewer"]
    text = settings.users_file.read_text("utf-8")
    for username, role, password in report.logins:
        assert users[username].role == role
        assert users[username].password_hash.startswith("$argon2id$")
        assert verify_password(users[username], password)
        assert password not in text
    assert not verify_password(users["admin"], report.logins[1][2])  # auditor's password
    assert len({p for _, _, p in report.logins}) == 3
    assert stat.S_IMODE(settings.users_file.stat().st_mode) == 0o600


def test_logins_file_is_owner_only_and_lists_the_logins(built: tuple[Settings, DemoReport]) -> None:
    settings, report = built
    logins = settings.demo_dir / LOGINS_FILE

    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    lines = logins.read_text("utf-8").splitlines()
    assert lines[0].startswith("# Demo logins")
    assert [tuple(line.split("\t")) for line in lines[1:]] == list(report.logins)


def test_demo_files_are_written(built: tuple[Settings, DemoReport]) -> None:
    settings, _ = built

    assert sorted(p.name for p in settings.demo_dir.iterdir()) == [
        "LOGINS.txt",
        "events.csv",
        "gold.csv",
        "items.parquet",
        "lfs.csv",
        "tasks.toml",
        "truth.parquet",
        "votes.parquet",
    ]


def test_rebuild_without_force_refuses(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.db_path.parent.mkdir(parents=True)
    settings.db_path.write_bytes(b"")

    with pytest.raises(DemoExistsError, match="already exists; `labelwatch demo --force`"):
        build_demo(settings, n_items=N_ITEMS)
    assert settings.db_path.read_bytes() == b""
    assert not settings.demo_dir.exists()


def test_force_rebuild_gives_the_same_counts(
    tmp_path: Path, built: tuple[Settings, DemoReport], frames: DemoWorkspace
) -> None:
    # A copy of the built workspace, so that the shared one stays as it was.
    original, first = built
    shutil.copytree(original.db_path.parent, tmp_path / "data")
    settings = _settings(tmp_path)
    before = _counts(settings)
    old_passwords = {u: p for u, _, p in first.logins}

    with pytest.raises(DemoExistsError):
        build_demo(settings, n_items=N_ITEMS)
    second = build_demo(settings, n_items=N_ITEMS, force=True)

    assert (
        _counts(settings)
        == before
        == {table: len(getattr(frames, attr)) for table, attr in COUNTED.items()}
    )
    store = Store(settings.db_path)
    assert rows(store, "SELECT count(*) FROM budgets") == [(1,)]
    assert rows(store, "SELECT count(*) FROM goals") == [(3,)]
    assert rows(store, "SELECT count(*) FROM ingestions") == [(5,)]
    users = load_users(settings.users_file)
    assert sorted(users) == ["admin", "auditor", "viewer"]
    # New random passwords: the new one verifies, the old one no longer does.
    assert verify_password(users["viewer"], {u: p for u, _, p in second.logins}["viewer"])
    assert not verify_password(users["viewer"], old_passwords["viewer"])


def test_a_failed_rebuild_leaves_the_old_workspace_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    build_demo(settings, n_items=N_ITEMS)
    before = _counts(settings)

    def crash(*_args: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr("auditor.demo.workspace._add_budget_and_goals", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        build_demo(settings, n_items=N_ITEMS + 100, seed=1, force=True)
    assert _counts(settings) == before  # the old database, untouched
    assert rows(Store(settings.db_path), "SELECT count(*) FROM budgets") == [(1,)]
