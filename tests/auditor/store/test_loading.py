"""Validated, transactional, idempotent loading: every bad-row rule and the merge rules."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from auditor.ingest.readers import UnreadableInputError, open_source
from auditor.store import Store
from auditor.store.loading import UnknownTaskError, load
from tests.conftest import ingest, rows, write

HEADER = "item,lf,label,subtask,confidence,voted_at\n"


def vote_file(tmp_path: Path, body: str, name: str = "votes.csv") -> Path:
    return write(tmp_path, name, HEADER + body)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("t9,kw_bill,billing,,,", "unknown item t9"),
        ("t1,nope,billing,,,", "unknown labeling function nope"),
        ("t1,kw_bill,refund,,,", "label refund is not in the label set of subtask topic"),
        ("t1,kw_bill,7,,,", "label 7 is not in the label set of subtask topic"),
        ("t1,kw_bill,billing,,NaN,", "confidence is NaN"),
        ("t1,kw_bill,billing,,1.5,", "confidence 1.5 is outside [0, 1]"),
        ("t1,kw_bill,billing,,-0.1,", "confidence -0.1 is outside [0, 1]"),
        ("t1,kw_bill,billing,,high,", "confidence high is not a number"),
        (",kw_bill,billing,,,", "missing required field item"),
        ("t1,,billing,,,", "missing required field lf"),
        ("t1,kw_bill,,,,", "missing required field label"),
        ("t1,kw_bill,billing,,,yesterday", "malformed timestamp yesterday in voted_at"),
        ("t1,kw_bill,billing,nosuch,,", "unknown subtask nosuch"),
        ("t1,kw_bill,billing,,", "malformed CSV row: expected 6 fields, found 5"),
    ],
)
def test_each_bad_row_is_quarantined_with_its_reason_and_the_good_row_lands(
    tickets: Store, tmp_path: Path, row: str, reason: str
) -> None:
    path = vote_file(tmp_path, f"t2,kw_tech,technical,,0.9,2026-10-02T09:00:00\n{row}\n")
    report = ingest(tickets, path, kind="votes")
    assert (report.inserted, report.quarantined) == (1, 1)
    assert rows(tickets, "SELECT row_number, reason FROM quarantine") == [(2, reason)]
    assert rows(tickets, "SELECT label, confidence FROM votes") == [(1, 0.9)]


def test_mixed_file_lands_exactly_its_good_rows_and_quarantines_the_rest(
    tickets: Store, tmp_path: Path
) -> None:
    body = (
        "t1,kw_bill,billing,,0.8,2026-10-01T10:00:00\n"  # 1 good
        "t9,kw_bill,billing,,,\n"  # 2 unknown item
        "t1,kw_tech,billing,,1.2,\n"  # 3 confidence out of range
        "t2,kw_tech,1,,,2026-10-02\n"  # 4 good (label by code)
        "t1,refund_re,invoice,,,\n"  # 5 good (subtask from the LF)
        "t1,kw_bill,other,,,\n"  # 6 duplicate of row 1
        "t3,kw_bill,billing,,,31/12/2026\n"  # 7 malformed timestamp
        "t3,kw_bill,billing\n"  # 8 malformed CSV row
    )
    report = ingest(tickets, vote_file(tmp_path, body), kind="votes")
    assert report.rows_read == 8
    assert (report.inserted, report.updated, report.unchanged, report.quarantined) == (3, 0, 0, 5)
    landed = rows(
        tickets,
        "SELECT i.external_id, f.name, s.name, v.label, v.confidence FROM votes v "
        "JOIN items i USING (item_id) JOIN labeling_functions f USING (lf_id) "
        "JOIN subtasks s ON s.subtask_id = v.subtask_id ORDER BY 1, 2",
    )
    assert landed == [
        ("t1", "kw_bill", "topic", 0, 0.8),
        ("t1", "refund_re", "billing_issue", 1, None),
        ("t2", "kw_tech", "topic", 1, None),
    ]
    quarantined = rows(tickets, "SELECT row_number, reason, raw FROM quarantine ORDER BY 1")
    assert [(r, reason) for r, reason, _ in quarantined] == [
        (2, "unknown item t9"),
        (3, "confidence 1.2 is outside [0, 1]"),
        (6, "duplicate key (item, lf and subtask) in this file: first at row 1"),
        (7, "malformed timestamp 31/12/2026 in voted_at"),
        (8, "malformed CSV row: expected 6 fields, found 3"),
    ]
    assert json.loads(quarantined[0][2])["item"] == "t9"
    assert json.loads(quarantined[2][2]) == {
        "item": "t1",
        "lf": "kw_bill",
        "label": "other",
        "subtask": None,
        "confidence": None,
        "voted_at": None,
    }
    assert json.loads(quarantined[4][2]) == {"line": "t3,kw_bill,billing"}
    assert dict(report.quarantine_reasons) == {
        "unknown item": 1,
        "confidence outside [0, 1]": 1,
        "duplicate key in file": 1,
        "malformed timestamp in voted_at": 1,
        "malformed CSV row": 1,
    }
    (ingestion,) = rows(
        tickets,
        "SELECT kind, rows_read, inserted, quarantined FROM ingestions WHERE ingestion_id = ?",
        [report.ingestion_id],
    )
    assert ingestion == ("votes", 8, 3, 5)


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_parquet_and_json_lines_follow_the_same_rules(
    tickets: Store, tmp_path: Path, suffix: str
) -> None:
    frame = pd.DataFrame(
        {
            "item": ["t1", "t2", "t9", "t3"],
            "lf": ["kw_bill", "kw_bill", "kw_bill", "kw_tech"],
            "label": ["billing", "other", "billing", "bogus"],
            "confidence": [0.5, None, None, 0.25],
        }
    )
    path = tmp_path / f"votes.{suffix}"
    if suffix == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    report = ingest(tickets, path, kind="votes", chunk_rows=2)
    assert (report.inserted, report.quarantined) == (2, 2)
    assert rows(tickets, "SELECT row_number, reason FROM quarantine ORDER BY 1") == [
        (3, "unknown item t9"),
        (4, "label bogus is not in the label set of subtask topic"),
    ]


def test_malformed_json_line_is_quarantined(tickets: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.jsonl",
        '{"item": "t1", "lf": "kw_bill", "label": "billing"}\n{"item": "t2", "lf": \n[1, 2]\n',
    )
    report = ingest(tickets, path, kind="votes")
    assert (report.inserted, report.quarantined) == (1, 2)
    reasons = [r for (r,) in rows(tickets, "SELECT reason FROM quarantine ORDER BY row_number")]
    assert reasons[0].startswith("malformed JSON: Expecting value")
    assert reasons[1] == "malformed JSON row: expected an object, found list"


def test_reingest_is_idempotent_and_a_changed_vote_replaces_the_old_one(
    tickets: Store, tmp_path: Path
) -> None:
    first = vote_file(tmp_path, "t1,kw_bill,billing,,0.8,\nt2,kw_tech,technical,,,\n")
    assert ingest(tickets, first, kind="votes").inserted == 2
    again = ingest(tickets, first, kind="votes")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = vote_file(tmp_path, "t1,kw_bill,other,,0.6,\nt2,kw_tech,technical,,,\n", "v2.csv")
    report = ingest(tickets, changed, kind="votes")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    assert rows(tickets, "SELECT count(*) FROM votes") == [(2,)]
    assert rows(tickets, "SELECT label, confidence FROM votes WHERE lf_id = 1") == [(2, 0.6)]
    (log,) = rows(tickets, "SELECT table_name, old_value, new_value FROM change_log")
    assert log[0] == "votes"
    assert json.loads(log[1]) == {"label": 0, "confidence": 0.8}
    assert json.loads(log[2]) == {"label": 2, "confidence": 0.6}


def test_missing_required_column_fails_the_whole_file_and_writes_nothing(
    tickets: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, "v.csv", "item,lf\nt1,kw_bill\n")
    with pytest.raises(UnreadableInputError, match="missing required column"):
        ingest(tickets, path, kind="votes")
    assert rows(tickets, "SELECT count(*) FROM ingestions WHERE kind = 'votes'") == [(0,)]


def test_unknown_task_is_an_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UnknownTaskError, match="unknown task 'nope'"):
        ingest(store, vote_file(tmp_path, "t1,kw_bill,billing,,,\n"), kind="votes", task="nope")


def test_a_failure_midway_rolls_back_every_chunk(tickets: Store, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"item": [f"t{i}" for i in (1, 2, 3, 4, 5, 9)], "lf": "kw_bill", "label": "billing"}
    )
    frame.to_parquet(tmp_path / "v.parquet", index=False)
    source = open_source(tmp_path / "v.parquet")  # chunks of 2 rows: fails on the third

    class Exploding:
        name = source.name

        def columns(self) -> list[str]:
            return source.columns()

        def chunks(self, chunk_rows: int):  # type: ignore[no-untyped-def]
            for index, chunk in enumerate(source.chunks(chunk_rows)):
                if index == 2:
                    raise OSError("disk vanished")
                yield chunk

    with tickets.connect() as con, pytest.raises(OSError, match="disk vanished"):
        load(con, Exploding(), kind="votes", task="tickets", chunk_rows=2)
    assert rows(tickets, "SELECT count(*) FROM votes") == [(0,)]
    assert rows(tickets, "SELECT count(*) FROM quarantine") == [(0,)]
    assert rows(tickets, "SELECT count(*) FROM ingestions WHERE kind = 'votes'") == [(0,)]


def test_register_creates_unknown_items_and_lfs_only_for_otherwise_valid_rows(
    tickets: Store, tmp_path: Path
) -> None:
    body = "new1,new_lf,billing,topic,,2026-10-05\nnew2,other_lf,bogus,topic,,\n"
    report = ingest(tickets, vote_file(tmp_path, body), kind="votes", register=True)
    assert dict(report.registered) == {"items": 1, "labeling functions": 1}
    assert (report.inserted, report.quarantined) == (1, 1)
    assert rows(
        tickets,
        "SELECT external_id, created_at::DATE::VARCHAR FROM items WHERE external_id LIKE 'new%'",
    ) == [("new1", "2026-10-05")]
    assert rows(tickets, "SELECT name FROM labeling_functions WHERE name LIKE '%_lf'") == [
        ("new_lf",)
    ]


def test_items_keep_extra_columns_as_attributes_and_record_changes(
    tickets: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, "i.csv", "item,split,channel,tier\nt1,train,chat,pro\n")
    report = ingest(tickets, path, kind="items")
    assert report.updated == 1
    (attributes,) = rows(tickets, "SELECT attributes FROM items WHERE external_id = 't1'")[0]
    assert json.loads(attributes) == {"channel": "chat", "tier": "pro"}
    assert rows(tickets, "SELECT table_name FROM change_log") == [("items",)]


def test_gold_is_append_only_and_idempotent(tickets: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "g.csv",
        "item,subtask,label,annotator\nt1,topic,billing,ann\nt2,topic,other,ann\n",
    )
    assert ingest(tickets, path, kind="gold").inserted == 2
    assert ingest(tickets, path, kind="gold").unchanged == 2
    changed = write(tmp_path, "g2.csv", "item,subtask,label,annotator\nt1,topic,technical,ann\n")
    report = ingest(tickets, changed, kind="gold")
    assert (report.inserted, report.updated) == (0, 1)
    assert rows(tickets, "SELECT label FROM gold_labels WHERE item_id = 1 ORDER BY gold_id") == [
        (0,),
        (1,),
    ]


def test_gold_needs_a_subtask_when_the_task_has_several(tickets: Store, tmp_path: Path) -> None:
    # tickets has two subtasks, so a gold row without one cannot be placed.
    path = write(tmp_path, "g.csv", "item,label\nt1,billing\n")
    report = ingest(tickets, path, kind="gold")
    assert rows(tickets, "SELECT reason FROM quarantine") == [
        ("missing required field subtask (the task has several subtasks)",)
    ]
    assert report.inserted == 0


def test_events_validate_kind_amounts_and_a_single_currency(tickets: Store, tmp_path: Path) -> None:
    body = (
        "annotator,kind,seconds,cost,at,item,subtask,currency\n"
        "ann,human_label,30,0.1000,2026-10-01T10:00:00,t1,topic,USD\n"
        "ann,human_label,45.5,0.2001,2026-10-01T10:01:00,t2,topic,\n"
        "ann,coffee,30,0.1,2026-10-01T10:02:00,,,\n"
        "ann,audit,-3,0.1,2026-10-01T10:03:00,,,\n"
        "ann,audit,3,-0.1,2026-10-01T10:04:00,,,\n"
        "ann,audit,3,0.1,2026-10-01T10:05:00,,,EUR\n"
    )
    report = ingest(tickets, write(tmp_path, "e.csv", body), kind="events", currency="usd")
    assert (report.inserted, report.quarantined) == (2, 4)
    assert [r for (r,) in rows(tickets, "SELECT reason FROM quarantine ORDER BY row_number")] == [
        "kind coffee is not one of human_label, audit, review, lf_development",
        "seconds -3 is negative",
        "cost -0.1 is negative",
        "currency EUR differs from the task's currency USD (one currency per task)",
    ]
    assert rows(tickets, "SELECT sum(cost)::VARCHAR, sum(seconds) FROM annotation_events") == [
        ("0.3001", 75.5)
    ]


def test_lfs_update_in_place_with_a_change_record(tickets: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path, "l.csv", "lf,subtask,kind,owner,active\nkw_bill,topic,pattern,ana,false\n"
    )
    report = ingest(tickets, path, kind="lfs")
    assert report.updated == 1
    assert rows(tickets, "SELECT owner, active FROM labeling_functions WHERE name = 'kw_bill'") == [
        ("ana", False)
    ]
