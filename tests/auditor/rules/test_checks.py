"""Rule checks on hand-made fused labels and votes, each case worked out by hand."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from auditor.rules import CheckInputs, LFShape, RuleSet, SubtaskShape, TaskShape, check
from auditor.rules.checks import Violations, feasible_mass
from auditor.rules.definitions import (
    AllowedChildren,
    Forbidden,
    Improbable,
    LFLabels,
    Required,
    implicit_rules,
)

NAN = np.nan
SHAPE = TaskShape(
    "tickets",
    (
        SubtaskShape("topic", ("billing", "technical", "other")),
        SubtaskShape("billing_issue", ("refund", "invoice"), "topic", "billing"),
    ),
    (LFShape("kw_bill", "topic"), LFShape("kw_tech", "topic")),
)
# topic codes: billing 0, technical 1, other 2; billing_issue: refund 0, invoice 1
TOPIC = np.array([0, 1, 0, 2, 0])
TOPIC_P = np.array(
    [[0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.9, 0.05, 0.05]]
)
ISSUE = np.array([0, 0, -1, -1, 1])
ISSUE_P = np.array([[0.6, 0.4], [0.9, 0.1], [NAN, NAN], [NAN, NAN], [0.3, 0.7]])


def inputs(**votes: np.ndarray) -> CheckInputs:
    return CheckInputs(
        fused={"topic": TOPIC, "billing_issue": ISSUE},
        proba={"topic": TOPIC_P, "billing_issue": ISSUE_P},
        **votes,
    )


def with_rules(**tables: object) -> RuleSet:
    base = implicit_rules(SHAPE)
    return RuleSet(task="tickets", source="t.toml", applies_under=base.applies_under, **tables)  # type: ignore[arg-type]


def rows(violations: Violations, rule: str) -> list[tuple[object, ...]]:
    mask = violations.rule == rule
    return list(
        zip(
            violations.item[mask].tolist(),
            violations.lf[mask].tolist(),
            violations.subtasks[mask].tolist(),
            violations.labels[mask].tolist(),
            violations.detail[mask].tolist(),
            violations.kind[mask].tolist(),
            strict=True,
        )
    )


def test_applies_under_flags_a_child_label_outside_its_parent_label() -> None:
    result = check(implicit_rules(SHAPE), SHAPE, inputs())
    # item 1: topic technical but billing_issue refund
    assert rows(result.violations, "applies_under:billing_issue") == [
        (
            1,
            -1,
            "topic,billing_issue",
            "technical,refund",
            "billing_issue applies only under topic = billing",
            "applies_under",
        )
    ]


def test_a_child_label_without_any_parent_label_breaks_applies_under() -> None:
    data = CheckInputs(
        fused={"topic": np.array([-1]), "billing_issue": np.array([1])},
        proba={"topic": np.full((1, 3), NAN), "billing_issue": np.array([[0.2, 0.8]])},
    )
    result = check(implicit_rules(SHAPE), SHAPE, data)
    assert rows(result.violations, "applies_under:billing_issue")[0][3] == "none,invoice"
    assert result.mass[0] == 0.0  # billing_issue applies, topic has no label: infeasible


def test_allowed_children_required_and_forbidden() -> None:
    rules = with_rules(
        allowed_children=(
            AllowedChildren("only_refund", "topic", "billing", "billing_issue", ("refund",)),
        ),
        required=(Required("needs_issue", "topic", "billing", "billing_issue"),),
        forbidden=(
            Forbidden("no_billing_refund", (("topic", "billing"), ("billing_issue", "refund"))),
        ),
    )
    v = check(rules, SHAPE, inputs()).violations
    # item 4: billing + invoice (item 1's refund is under technical: applies_under's business)
    assert rows(v, "only_refund") == [
        (4, -1, "topic,billing_issue", "billing,invoice", "allowed: refund", "allowed_children")
    ]
    # item 2: billing without billing_issue (item 3 is 'other': not concerned)
    assert rows(v, "needs_issue") == [
        (
            2,
            -1,
            "topic,billing_issue",
            "billing,none",
            "topic = billing needs a billing_issue label",
            "required",
        )
    ]
    # item 0: billing + refund
    assert rows(v, "no_billing_refund") == [
        (0, -1, "topic,billing_issue", "billing,refund", "forbidden combination", "forbidden")
    ]


def test_a_single_pair_forbidden_rule_retires_a_label() -> None:
    rules = with_rules(forbidden=(Forbidden("no_other", (("topic", "other"),)),))
    assert [r[0] for r in rows(check(rules, SHAPE, inputs()).violations, "no_other")] == [3]


def test_lf_labels_flags_each_vote_outside_the_set() -> None:
    rules = with_rules(lf_labels=(LFLabels("bill_only", "kw_bill", "topic", ("billing",)),))
    votes = {  # (item, lf, subtask, label)
        "vote_item": np.array([0, 1, 1, 3, 3, 4]),
        "vote_lf": np.array([0, 0, 1, 0, 0, 0]),
        "vote_subtask": np.array([0, 0, 0, 0, 1, 0]),
        "vote_label": np.array([0, 1, 1, 2, 1, 1]),
    }
    result = check(rules, SHAPE, inputs(**votes))
    # kw_bill votes technical on 1 and 4, other on 3; its billing_issue vote on 3 and
    # kw_tech's vote on 1 are not concerned
    assert rows(result.violations, "bill_only") == [
        (1, 0, "topic", "technical", "allowed: billing", "lf_labels"),
        (3, 0, "topic", "other", "allowed: billing", "lf_labels"),
        (4, 0, "topic", "technical", "allowed: billing", "lf_labels"),
    ]
    count = next(c for c in result.counts if c.rule == "bill_only")
    assert (count.kind, count.scope, count.violations, count.items) == ("lf_labels", "topic", 3, 3)


def test_improbable_mass_by_hand_with_implicit_rules() -> None:
    # feasible: (billing, refund|invoice) and (technical|other, none); billing with no
    # issue is feasible too (nothing requires one)
    # item 0: issue fused, so P(none) = 0: 0.5 * (0.6 + 0.4)             = 0.5
    # item 1: 0.2 * (0.9 + 0.1)                                          = 0.2
    # item 2: no issue, P(none) = 1: 0.6 + 0.3 + 0.1                     = 1.0
    # item 3: 0.1 + 0.1 + 0.8                                            = 1.0
    # item 4: 0.9 * (0.3 + 0.7)                                          = 0.9
    result = check(implicit_rules(SHAPE), SHAPE, inputs())
    np.testing.assert_allclose(result.mass, [0.5, 0.2, 1.0, 1.0, 0.9])
    # threshold 0.2: only mass strictly below is flagged
    assert rows(result.violations, "improbable") == []
    rules = RuleSet(
        "tickets", applies_under=implicit_rules(SHAPE).applies_under, improbable=Improbable(0.55)
    )
    flagged = rows(check(rules, SHAPE, inputs()).violations, "improbable")
    assert flagged == [
        (0, -1, "topic,billing_issue", "billing,refund", "0.5", "improbable"),
        (1, -1, "topic,billing_issue", "technical,refund", "0.2", "improbable"),
    ]


def test_improbable_mass_by_hand_with_every_kind_of_rule() -> None:
    rules = with_rules(
        allowed_children=(
            AllowedChildren("a", "topic", "billing", "billing_issue", ("refund", "invoice")),
        ),
        required=(Required("r", "topic", "billing", "billing_issue"),),
        forbidden=(Forbidden("f", (("topic", "billing"), ("billing_issue", "invoice"))),),
    )
    # feasible: (billing, refund), (technical, none), (other, none)
    # item 0: 0.5 * 0.6 = 0.3; item 1: 0.2 * 0.9 = 0.18
    # item 2: billing needs an issue, none has P 1: 0.3 + 0.1 = 0.4; item 3: 0.1 + 0.8 = 0.9
    # item 4: 0.9 * 0.3 = 0.27
    np.testing.assert_allclose(
        feasible_mass(rules, SHAPE, inputs().fused, inputs().proba), [0.3, 0.18, 0.4, 0.9, 0.27]
    )


def test_independent_subtasks_multiply_and_forbidden_links_them() -> None:
    shape = TaskShape("t", (*SHAPE.subtasks, SubtaskShape("urgent", ("yes", "no"))))
    fused = {"topic": TOPIC[:1], "billing_issue": ISSUE[:1], "urgent": np.array([0])}
    proba = {"topic": TOPIC_P[:1], "billing_issue": ISSUE_P[:1], "urgent": np.array([[0.4, 0.6]])}
    # urgent is unconstrained: the mass stays 0.5 * (0.6 + 0.4) = 0.5
    np.testing.assert_allclose(feasible_mass(implicit_rules(shape), shape, fused, proba), [0.5])
    # forbid (technical, yes) and (refund, no): topic and urgent join billing_issue's group
    # feasible (topic, issue, urgent): (billing, refund, yes) 0.5*0.6*0.4 = 0.12,
    # (billing, invoice, yes) 0.5*0.4*0.4 = 0.08, (billing, invoice, no) 0.5*0.4*0.6 = 0.12;
    # technical/other need issue none (P 0): total 0.32
    rules = RuleSet(
        "t",
        applies_under=implicit_rules(shape).applies_under,
        forbidden=(
            Forbidden("f1", (("topic", "technical"), ("urgent", "yes"))),
            Forbidden("f2", (("billing_issue", "refund"), ("urgent", "no"))),
        ),
    )
    np.testing.assert_allclose(feasible_mass(rules, shape, fused, proba), [0.32])
    rules = replace(rules, improbable=Improbable(0.4))
    result = check(rules, shape, CheckInputs(fused, proba))
    assert result.counts[-1].scope == "task"
    assert rows(result.violations, "improbable") == [
        (0, -1, "topic,billing_issue,urgent", "billing,refund,yes", "0.32", "improbable")
    ]


def test_improbable_rows_name_every_subtask_and_unchecked_items_are_skipped() -> None:
    fused = {"topic": np.array([1, -1]), "billing_issue": np.array([0, -1])}
    proba = {
        "topic": np.array([[0.1, 0.9, 0.0], [NAN] * 3]),
        "billing_issue": np.array([[1.0, 0.0], [NAN] * 2]),
    }
    result = check(implicit_rules(SHAPE), SHAPE, CheckInputs(fused, proba))
    assert result.n_checked == 1
    assert np.isnan(result.mass[1])
    assert rows(result.violations, "improbable") == [
        (0, -1, "topic,billing_issue", "technical,refund", "0.1", "improbable")
    ]


def test_counts_cover_every_rule_in_order_zeros_included() -> None:
    result = check(implicit_rules(SHAPE), SHAPE, inputs())
    assert [(c.rule, c.kind, c.scope, c.violations, c.items) for c in result.counts] == [
        ("applies_under:billing_issue", "applies_under", "topic,billing_issue", 1, 1),
        ("improbable", "improbable", "task", 0, 0),
    ]
    assert result.n_checked == 5


def test_map_ids_and_empty_concat() -> None:
    rules = with_rules(lf_labels=(LFLabels("bill_only", "kw_bill", "topic", ("billing",)),))
    data = inputs(
        vote_item=np.array([1]),
        vote_lf=np.array([0]),
        vote_subtask=np.array([0]),
        vote_label=np.array([1]),
    )
    mapped = check(rules, SHAPE, data).violations.map_ids(
        np.array([10, 11, 12, 13, 14]), np.array([7, 8])
    )
    assert sorted(zip(mapped.item.tolist(), mapped.lf.tolist(), strict=True)) == [(11, -1), (11, 7)]
    empty = Violations.concat([])
    assert len(empty) == 0 and empty.item.dtype == np.int64


@pytest.mark.parametrize("n", [300_000])
def test_checks_are_vectorised(n: int) -> None:
    rng = np.random.default_rng(0)
    topic_p = rng.dirichlet(np.ones(3), n)
    issue_p = rng.dirichlet(np.ones(2), n)
    issue = issue_p.argmax(axis=1)
    issue[rng.random(n) < 0.6] = -1
    issue_p[issue < 0] = NAN
    rules = with_rules(required=(Required("r", "topic", "billing", "billing_issue"),))
    data = CheckInputs(
        {"topic": topic_p.argmax(axis=1), "billing_issue": issue},
        {"topic": topic_p, "billing_issue": issue_p},
    )
    start = time.perf_counter()
    result = check(rules, SHAPE, data)
    assert time.perf_counter() - start < 5.0  # about 0.3 s: no Python loop over items
    assert result.n_checked == n and len(result.violations) > 0
