"""`labelwatch audit ...` handlers, called with Namespaces from their own parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from auditor.audit.submissions import SubmissionError
from auditor.cli_audit import AUDIT_COMMANDS, add_audit_parser, cmd_audit
from auditor.settings import Settings, load_settings
from auditor.store import Store
from auditor.users import User, UserError, save_users
from tests.auditor.store.test_audit_io import copy_store, queued_template
from tests.conftest import rows, write

FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$fixture-only"  # never verified here


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return queued_template(tmp_path_factory.mktemp("cli-audit"))


@pytest.fixture
def settings(template: Store, tmp_path: Path) -> Settings:
    store = copy_store(template, tmp_path)
    return load_settings(
        env={}, overrides={"db_path": store.path, "users_file": tmp_path / "users.toml"}
    )


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_audit_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["audit", *argv])


def audit(settings: Settings, *argv: str) -> int:
    return cmd_audit(parse(*argv), settings)


def test_the_parser_has_every_audit_action() -> None:
    parser = argparse.ArgumentParser()
    add_audit_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["audit", "sample", "--items", "50", "--stratify", "subtask,class"])
    assert (args.action, args.items, args.stratify) == ("sample", 50.0, "subtask,class")
    assert set(AUDIT_COMMANDS) == {"queue", "submit", "adjudicate", "disputes", "sample"}
    args = parse("queue", "--auditor", "ana", "--limit", "5", "--json")
    assert (args.action, args.auditor, args.limit, args.json, args.state) == (
        "queue",
        "ana",
        5,
        True,
        "open",
    )


def test_queue_prints_entries_with_votes(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert audit(settings, "queue", "--auditor", "ana") == 0
    text = capsys.readouterr().out
    assert "round 1  tickets/topic  t1  fused billing (billing " in text
    assert "assigned to bo" not in text and "assigned to ana" in text
    assert "kw_bill" in text and "conf 0.90" in text
    assert audit(settings, "queue", "--json", "--limit", "1") == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert (entry["item"], entry["fused_label"], len(entry["votes"])) == ("t1", "billing", 2)
    assert audit(settings, "queue", "--task", "other") == 0
    assert capsys.readouterr().out.strip() == "The audit queue is empty."


def test_submit_then_disputes_then_adjudicate(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(
        tmp_path,
        "a.csv",
        "item,subtask,label,auditor,seconds,note\nt3,topic,billing,ana,120,\n"
        "t1,topic,technical,ana,60,crash\n",
    )
    assert audit(settings, "submit", str(first)) == 0
    out = capsys.readouterr().out
    assert "2 correction(s) recorded; 2 queue entries closed" in out
    assert "cost 1.5000 USD" in out
    second = write(
        tmp_path,
        "b.jsonl",
        '{"item": "t3", "subtask": "topic", "label": "technical", "auditor": "bo", '
        '"seconds": 30}\n',
    )
    assert audit(settings, "submit", str(second), "--task", "tickets", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["corrections"], report["cost"], report["currency"]) == (1, "0.2500", "USD")
    assert report["needs_adjudication"][0]["labels"] == {"ana": "billing", "bo": "technical"}
    assert audit(settings, "disputes") == 0
    assert "tickets/topic t3  ana=billing  bo=technical" in capsys.readouterr().out
    assert audit(settings, "adjudicate", "t3", "topic", "technical", "--admin", "root") == 0
    assert "tickets/topic t3: technical (adjudication #1 by root)" in capsys.readouterr().out
    assert audit(settings, "disputes", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert rows(Store(settings.db_path), "SELECT label FROM audited_labels WHERE item_id = 3") == [
        (1,)
    ]


def test_a_bad_submission_raises_the_user_error_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.csv", "item,subtask,label,auditor,seconds\nt5,topic,other,ana,9\n")
    with pytest.raises(SubmissionError, match="row 1: item t5 is not in an audit queue"):
        audit(settings, "submit", str(path))
    assert audit(settings, "submit", str(path), "--allow-outside-queue") == 0
    assert rows(Store(settings.db_path), "SELECT round_id FROM corrections") == [(None,)]


def test_adjudication_needs_an_admin_when_there_are_users(
    settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "a.csv", "item,subtask,label,auditor,seconds\nt3,topic,billing,ana,9\n")
    assert audit(settings, "submit", str(path)) == 0
    save_users(
        settings.users_file,
        {"ana": User("ana", "auditor", FAKE_HASH), "root": User("root", "admin", FAKE_HASH)},
    )
    for name in ("ana", "nobody"):
        with pytest.raises(UserError, match="is not an admin"):
            audit(settings, "adjudicate", "t3", "topic", "other", "--admin", name)
    assert audit(settings, "adjudicate", "t3", "topic", "other", "--admin", "root") == 0
