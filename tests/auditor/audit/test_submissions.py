"""Reading auditors' submission files (CSV, JSON lines) with row-numbered errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.audit.submissions import Submission, SubmissionError, parse_record, read_submissions
from auditor.ingest.readers import UnreadableInputError
from tests.conftest import write

HEADER = "item,subtask,label,auditor,seconds,note\n"


def test_csv_rows_are_trimmed_numbered_and_take_the_default_task(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        HEADER + "t1,topic,billing,ana,30,\n t2 , topic , 1 , bo , 12.5 , app crash \n",
    )
    assert read_submissions(path, task="tickets") == [
        Submission(1, "t1", "billing", "ana", 30.0, subtask="topic", task="tickets"),
        Submission(2, "t2", "1", "bo", 12.5, subtask="topic", note="app crash", task="tickets"),
    ]


def test_optional_columns_may_be_absent_and_a_task_column_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "item,label,auditor,seconds,task\nt1,billing,ana,3,a\n")
    assert read_submissions(path, task="b") == [
        Submission(1, "t1", "billing", "ana", 3.0, task="a")
    ]


def test_json_lines_take_numbers_nulls_and_skip_blank_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.jsonl",
        '{"item": "t1", "subtask": "topic", "label": "billing", "auditor": "ana", '
        '"seconds": 40, "note": null}\n\n'
        '{"item": "t2", "label": "other", "auditor": "bo", "seconds": "7.5", "task": "tickets"}\n',
    )
    assert read_submissions(path) == [
        Submission(1, "t1", "billing", "ana", 40.0, subtask="topic"),
        Submission(2, "t2", "other", "bo", 7.5, task="tickets"),
    ]


def test_csv_errors_name_each_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        HEADER + "t1,topic,billing,ana,30,\nt2,topic,,ana,30,x\nt3,topic,billing,ana,abc,\n"
        "t4,topic\nt5,topic,billing,,nan,\n",
    )
    with pytest.raises(SubmissionError) as caught:
        read_submissions(path)
    assert caught.value.problems == (
        "row 2: missing required field label",
        "row 3: seconds abc is not a number",
        "row 4: malformed CSV row: expected 6 fields, found 2",
        "row 5: missing required field auditor",
        "row 5: seconds nan is not a number",
    )
    assert str(caught.value).startswith("submission refused, nothing was written (5 problems):")


def test_json_lines_errors_name_each_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.jsonl",
        '{"item": "t1", "label": "billing", "auditor": "ana", "seconds": 1}\n'
        '{"item": "t2", "label": \n'
        '["t3"]\n'
        '{"item": "t4", "label": "billing", "auditor": "ana"}\n',
    )
    with pytest.raises(SubmissionError) as caught:
        read_submissions(path)
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("row 2: malformed JSON")
    assert problems[1:] == (
        "row 3: malformed JSON row: expected an object, found list",
        "row 4: missing required field seconds",
    )


def test_unreadable_files_are_refused_as_a_whole(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="no such file"):
        read_submissions(tmp_path / "missing.csv")
    with pytest.raises(UnreadableInputError, match="unknown format"):
        read_submissions(write(tmp_path, "s.xlsx", ""))
    short = write(tmp_path, "s.csv", "item,label\nt1,billing\n")
    with pytest.raises(UnreadableInputError, match="missing required column"):
        read_submissions(short)
    assert read_submissions(write(tmp_path, "empty.csv", HEADER)) == []


def test_parse_record_reports_every_problem_of_a_row() -> None:
    assert parse_record({"item": " ", "label": None, "auditor": "a", "seconds": "x"}, row=3) == [
        "missing required field item",
        "missing required field label",
        "seconds x is not a number",
    ]
    parsed = parse_record({"item": "t1", "label": 2, "auditor": "a", "seconds": 4}, row=1)
    assert parsed == Submission(1, "t1", "2", "a", 4.0)
