"""Rules files: parsing, every validation error (naming file, rule and problem), implicit rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.rules import (
    LFShape,
    RulesError,
    RuleSet,
    SubtaskShape,
    TaskShape,
    implicit_rules,
    load_rules,
)
from auditor.rules.definitions import (
    AllowedChildren,
    AppliesUnder,
    Forbidden,
    Improbable,
    LFLabels,
    Required,
    scope,
)

SHAPE = TaskShape(
    "support_tickets",
    (
        SubtaskShape("topic", ("billing", "technical", "shipping", "other")),
        SubtaskShape("billing_issue", ("refund", "double_charge", "invoice"), "topic", "billing"),
        SubtaskShape("technical_issue", ("bug", "outage"), "topic", "technical"),
    ),
    (LFShape("kw_refund", "topic"), LFShape("kw_bug", "technical_issue"), LFShape("crowd_1")),
)

FULL = """
[[allowed_children]]
name = "billing_refinements"
parent = "topic"
parent_label = "billing"
child = "billing_issue"
labels = ["refund", "double_charge"]

[[forbidden]]
name = "no_refund_on_shipping"
labels = { topic = "shipping", billing_issue = "refund" }

[[required]]
name = "billing_needs_issue"
parent = "topic"
parent_label = "billing"
child = "billing_issue"

[[lf_labels]]
name = "kw_refund_is_billing"
lf = "kw_refund"
labels = ["billing"]

[[lf_labels]]
name = "crowd_topics"
lf = "crowd_1"
subtask = "topic"
labels = ["billing", "technical"]

[improbable]
threshold = 0.1
"""


def write(directory: Path, text: str) -> Path:
    path = directory / "support_tickets.toml"
    path.write_text(text, "utf-8")
    return path


def load(tmp_path: Path, text: str, shape: TaskShape = SHAPE) -> RuleSet:
    return load_rules(write(tmp_path, text), task=shape)


def error(tmp_path: Path, text: str, shape: TaskShape = SHAPE) -> str:
    with pytest.raises(RulesError) as raised:
        load(tmp_path, text, shape)
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "support_tickets.toml") + ": "), message
    return message


def test_full_file_parses_into_frozen_rules(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, FULL), task=SHAPE)
    assert rules.source == str(tmp_path / "support_tickets.toml")
    assert rules.allowed_children == (
        AllowedChildren(
            "billing_refinements", "topic", "billing", "billing_issue", ("refund", "double_charge")
        ),
    )
    assert rules.forbidden == (
        Forbidden("no_refund_on_shipping", (("topic", "shipping"), ("billing_issue", "refund"))),
    )
    assert rules.required == (Required("billing_needs_issue", "topic", "billing", "billing_issue"),)
    assert rules.lf_labels == (
        LFLabels("kw_refund_is_billing", "kw_refund", "topic", ("billing",)),
        LFLabels("crowd_topics", "crowd_1", "topic", ("billing", "technical")),
    )
    assert rules.improbable == Improbable(0.1)
    assert [r.name for r in rules.rules()] == [
        "applies_under:billing_issue",
        "applies_under:technical_issue",
        "billing_refinements",
        "no_refund_on_shipping",
        "billing_needs_issue",
        "kw_refund_is_billing",
        "crowd_topics",
        "improbable",
    ]
    assert [scope(r) for r in rules.rules()][-3:] == ["topic", "topic", "task"]
    with pytest.raises(AttributeError):
        rules.improbable.threshold = 0.5  # type: ignore[misc]


def test_implicit_rules_without_a_file(tmp_path: Path) -> None:
    rules = load_rules(tmp_path / "missing.toml", task=SHAPE)
    assert rules == implicit_rules(SHAPE)
    assert rules.source is None
    assert rules.applies_under == (
        AppliesUnder("applies_under:billing_issue", "topic", "billing", "billing_issue"),
        AppliesUnder("applies_under:technical_issue", "topic", "technical", "technical_issue"),
    )
    assert rules.rules()[-1] == Improbable(0.2)
    assert (rules.allowed_children, rules.forbidden, rules.required, rules.lf_labels) == (
        (),
        (),
        (),
        (),
    )


def test_implicit_rules_come_with_a_file_and_an_empty_file_is_valid(tmp_path: Path) -> None:
    assert (
        load_rules(write(tmp_path, ""), task=SHAPE).applies_under
        == implicit_rules(SHAPE).applies_under
    )
    assert [r.kind for r in load_rules(write(tmp_path, FULL), task=SHAPE).rules()][:2] == [
        "applies_under",
        "applies_under",
    ]


def test_a_flat_task_has_no_implicit_refinement_rules() -> None:
    flat = TaskShape("flat", (SubtaskShape("sentiment", ("pos", "neg")),))
    assert implicit_rules(flat).rules() == (Improbable(),)


REFINEMENT = 'name = "r"\nparent = "topic"\nparent_label = "billing"\nchild = "billing_issue"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[frobnicate]]\nname = 'x'\n", "unknown table 'frobnicate'"),
        ("[forbidden]\nname = 'x'\n", "forbidden must be an array of tables: [[forbidden]]"),
        (
            "[[required]]\n" + REFINEMENT + "colour = 'red'\n",
            "[[required]] #1 'r': unknown key 'colour' (known: child, name, parent, parent_label)",
        ),
        (
            "[[required]]\nname = 'r'\nparent = 'topic'\nchild = 'billing_issue'\n",
            "[[required]] #1 'r': missing key 'parent_label'",
        ),
        (
            "[[forbidden]]\nlabels = { topic = 'shipping' }\n",
            "[[forbidden]] #1: missing key 'name'",
        ),
        (
            "[[forbidden]]\nname = ''\nlabels = { topic = 'shipping' }\n",
            "[[forbidden]] #1: name must be a non-empty string",
        ),
        (
            "[[required]]\n" + REFINEMENT.replace('parent = "topic"', 'parent = "topc"'),
            "[[required]] #1 'r': unknown subtask 'topc' in parent (known: topic, "
            "billing_issue, technical_issue)",
        ),
        (
            "[[required]]\n" + REFINEMENT.replace('"billing_issue"', '"billing_kind"'),
            "[[required]] #1 'r': unknown subtask 'billing_kind' in child",
        ),
        (
            "[[required]]\n" + REFINEMENT.replace('"billing"', '"bill"'),
            "[[required]] #1 'r': label 'bill' in parent_label is not a label of 'topic' "
            "(billing, technical, shipping, other)",
        ),
        (
            "[[required]]\n" + REFINEMENT.replace('"billing"', '"shipping"'),
            "[[required]] #1 'r': child 'billing_issue' is not a refinement of topic = "
            "shipping (it refines topic = billing)",
        ),
        (
            "[[required]]\n" + REFINEMENT.replace('"billing_issue"', '"technical_issue"'),
            "child 'technical_issue' is not a refinement of topic = billing (it refines "
            "topic = technical)",
        ),
        (
            "[[allowed_children]]\n"
            + REFINEMENT.replace('child = "billing_issue"', 'child = "topic"')
            + "labels = ['billing']\n",
            "child 'topic' is not a refinement of topic = billing (a top-level subtask)",
        ),
        (
            "[[allowed_children]]\n" + REFINEMENT + "labels = ['refund', 'bug']\n",
            "[[allowed_children]] #1 'r': label 'bug' in labels is not a label of "
            "'billing_issue' (refund, double_charge, invoice)",
        ),
        (
            "[[allowed_children]]\n" + REFINEMENT + "labels = []\n",
            "[[allowed_children]] #1 'r': labels must be a non-empty list of label names",
        ),
        (
            "[[allowed_children]]\n" + REFINEMENT + "labels = ['refund', 'refund']\n",
            "labels repeat: ['refund', 'refund']",
        ),
        (
            "[[forbidden]]\nname = 'f'\nlabels = { topic = 'shipping', billing = 'refund' }\n",
            "[[forbidden]] #1 'f': unknown subtask 'billing' in labels",
        ),
        (
            "[[forbidden]]\nname = 'f'\nlabels = { topic = 'shipping', billing_issue = 'bug' }\n",
            "[[forbidden]] #1 'f': label 'bug' in labels is not a label of 'billing_issue'",
        ),
        (
            "[[forbidden]]\nname = 'f'\nlabels = ['shipping']\n",
            "[[forbidden]] #1 'f': labels must be a non-empty table of subtask = label",
        ),
        (
            "[[lf_labels]]\nname = 'l'\nlf = 'kw_nothing'\nlabels = ['billing']\n",
            "[[lf_labels]] #1 'l': unknown lf 'kw_nothing' (known: kw_refund, kw_bug, crowd_1)",
        ),
        (
            "[[lf_labels]]\nname = 'l'\nlf = 'kw_bug'\nlabels = ['billing']\n",
            "[[lf_labels]] #1 'l': label 'billing' in labels is not a label of 'technical_issue'",
        ),
        (
            "[[lf_labels]]\nname = 'l'\nlf = 'crowd_1'\nlabels = ['billing']\n",
            "[[lf_labels]] #1 'l': lf 'crowd_1' has no subtask of its own: give subtask = ...",
        ),
        (
            "[[lf_labels]]\nname = 'l'\nlf = 'crowd_1'\nsubtask = 'mood'\nlabels = ['a']\n",
            "[[lf_labels]] #1 'l': unknown subtask 'mood' in subtask",
        ),
        (
            "[improbable]\nthreshold = 1.5\n",
            "[improbable]: threshold must be a number in [0, 1], got 1.5",
        ),
        ("[improbable]\nthreshold = -0.1\n", "threshold must be a number in [0, 1], got -0.1"),
        ("[improbable]\nthreshold = 'low'\n", "threshold must be a number in [0, 1], got 'low'"),
        ("[improbable]\nthreshold = true\n", "threshold must be a number in [0, 1], got True"),
        ("[improbable]\nthreshold = nan\n", "threshold must be a number in [0, 1], got nan"),
        ("[improbable]\nlimit = 0.1\n", "[improbable]: unknown key 'limit' (known: threshold)"),
        ("[[improbable]]\nthreshold = 0.1\n", "[improbable] must be a table with a threshold"),
        ("[[forbidden]\nname = 'x'\n", "cannot read rules:"),
    ],
)
def test_every_validation_error_names_the_rule_and_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in error(tmp_path, text)


def test_second_entry_is_named_by_index_and_name(tmp_path: Path) -> None:
    text = (
        "[[forbidden]]\nname = 'a'\nlabels = { topic = 'shipping' }\n"
        "[[forbidden]]\nname = 'b'\nlabels = { topic = 'parcel' }\n"
    )
    assert "[[forbidden]] #2 'b': label 'parcel' in labels" in error(tmp_path, text)


@pytest.mark.parametrize(
    "name",
    ["dup", "applies_under:billing_issue", "improbable"],
    ids=["user", "implicit", "improbable"],
)
def test_duplicate_rule_names_are_refused(tmp_path: Path, name: str) -> None:
    text = (
        "[[forbidden]]\nname = 'dup'\nlabels = { topic = 'shipping' }\n"
        f"[[required]]\nname = '{name}'\nparent = 'topic'\nparent_label = 'billing'\n"
        "child = 'billing_issue'\n"
    )
    assert f"[[required]] #1 '{name}': rule name '{name}' is used twice" in error(tmp_path, text)


def test_an_lf_of_a_single_subtask_task_needs_no_subtask(tmp_path: Path) -> None:
    flat = TaskShape("flat", (SubtaskShape("sentiment", ("pos", "neg")),), (LFShape("crowd"),))
    rules = load(tmp_path, "[[lf_labels]]\nname = 'l'\nlf = 'crowd'\nlabels = ['pos']\n", flat)
    assert rules.lf_labels == (LFLabels("l", "crowd", "sentiment", ("pos",)),)


def test_threshold_bounds_and_integers_are_accepted(tmp_path: Path) -> None:
    for text, value in [("0", 0.0), ("1", 1.0), ("0.35", 0.35)]:
        rules = load(tmp_path, f"[improbable]\nthreshold = {text}\n")
        assert rules.improbable == Improbable(value)
