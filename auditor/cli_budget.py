"""`labelwatch budget set|goal|list` and `labelwatch report budget`: define, then read."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from auditor.budget.specs import GOAL_KINDS
from auditor.budget.state import BudgetState
from auditor.cli_common import open_store
from auditor.jobs.budget import budget_state
from auditor.settings import Settings
from auditor.store.budget_io import tasks_with_data
from auditor.store.budgets import (
    add_budget,
    add_goal,
    budget_by_name,
    budget_history,
    read_budgets,
    read_goals,
)


class BudgetInputError(ValueError):
    """A budget or goal the user typed is not valid (the message says why)."""


def add_budget_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    budget = sub.add_parser("budget", help="define budgets and goals (stored with history)")
    actions = budget.add_subparsers(dest="action", required=True)
    set_ = actions.add_parser("set", help="create or change a budget of a task")
    set_.add_argument("--task", required=True)
    set_.add_argument("--name", required=True)
    set_.add_argument("--amount", required=True, help="decimal amount, e.g. 12000.00")
    set_.add_argument("--currency", required=True)
    set_.add_argument("--start", required=True, help="period start, ISO date")
    set_.add_argument("--end", required=True, help="period end, ISO date (included)")
    goal = actions.add_parser("goal", help="set a goal (replaces the same kind's active goal)")
    goal.add_argument("--task", required=True)
    goal.add_argument("--kind", choices=GOAL_KINDS, required=True)
    goal.add_argument("--target", type=float, required=True)
    goal.add_argument("--budget", help="budget name (required for accuracy_within_budget)")
    goal.add_argument("--param", action="append", default=[], help="key=value, repeatable")
    listing = actions.add_parser("list", help="budgets, their history and active goals")
    listing.add_argument("--task")
    for p in (set_, goal, listing):
        p.add_argument("--json", action="store_true")


def cmd_budget(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    try:
        with store.transaction() as con:
            if args.action == "set":
                budget_id = add_budget(
                    con,
                    task=args.task,
                    name=args.name,
                    amount=_decimal(args.amount),
                    currency=args.currency,
                    period_start=_date(args.start),
                    period_end=_date(args.end),
                )
                payload: Any = {"budget_id": budget_id, "history": budget_history(con, budget_id)}
                text = f"budget {args.name!r} of {args.task}: {args.amount} {args.currency.upper()}"
            elif args.action == "goal":
                goal_budget = (
                    budget_by_name(con, args.task, args.budget).budget_id if args.budget else None
                )
                params = dict(_param(p) for p in args.param)
                goal_id = add_goal(
                    con,
                    task=args.task,
                    kind=args.kind,
                    target=args.target,
                    budget_id=goal_budget,
                    params=params,
                )
                payload = {"goal_id": goal_id}
                text = f"goal {goal_id}: {args.kind} target {args.target:g} for {args.task}"
            else:
                budgets = read_budgets(con, args.task)
                goals = read_goals(con, args.task)
                payload = {
                    "budgets": [
                        {**asdict(b), "history": budget_history(con, b.budget_id)} for b in budgets
                    ],
                    "goals": [asdict(g) for g in goals],
                }
                text = _list_text(payload)
    except ValueError as exc:
        raise BudgetInputError(str(exc)) from exc
    if args.json:
        print(json.dumps(payload, default=str, indent=2))
    else:
        print(text)
    return 0


def cmd_report_budget(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings).connect() as con:
        tasks = [args.task] if args.task else tasks_with_data(con)
        states = [budget_state(con, task, settings)[1] for task in tasks]
    if args.json:
        print(json.dumps([state_payload(s) for s in states], default=_plain, indent=2))
    else:
        print("\n\n".join(report_text(s) for s in states) or "No tasks yet.")
    return 0


def state_payload(state: BudgetState) -> dict[str, Any]:
    """The state as plain JSON-ready values (Decimal as strings: exact)."""
    return {
        "task": state.task,
        "currency": state.currency,
        "as_of": state.as_of,
        "spent": state.spent,
        "spend_by_kind": state.spend_by_kind,
        "spend_by_annotator": state.spend_by_annotator,
        "spend_by_subtask": state.spend_by_subtask,
        "effort": asdict(state.effort),
        "effort_by_kind": {k: asdict(v) for k, v in state.effort_by_kind.items()},
        "effort_by_annotator": {k: asdict(v) for k, v in state.effort_by_annotator.items()},
        "rework_share": _estimate(state.rework),
        "audit_acceptance": _estimate(state.acceptance),
        "labels": {k: asdict(v) for k, v in state.labels.items()},
        "accuracy": _estimate(state.accuracy),
        "cost_per_human_label": state.unit.per_human_label,
        "cost_per_weak_label": state.unit.per_weak_label,
        "cost_per_correct_label": _estimate(state.unit.per_correct_label),
        "cost_per_correct_label_jump": _estimate(state.cost_jump),
        "savings": asdict(state.savings),
        "budgets": [
            {
                "name": f.budget.name,
                "amount": f.budget.amount,
                "period_start": f.budget.period_start,
                "period_end": f.budget.period_end,
                "spent": f.forecast.spent,
                "burn_rate_per_day": _estimate(f.forecast.burn_rate),
                "trend_per_day": f.forecast.trend_per_day,
                "projected_spend": _estimate(f.forecast.projected),
                "overrun": f.forecast.overrun,
                "exhaustion": f.forecast.exhaustion,
                "exhaustion_earliest": f.forecast.exhaustion_earliest,
                "exhaustion_latest": f.forecast.exhaustion_latest,
                "exhausted_on": f.forecast.exhausted_on,
                "method": f.forecast.method,
            }
            for f in state.forecasts
        ],
        "goals": [
            {"goal_id": g.goal_id, "kind": g.kind, "target": g.target, **asdict(s)}
            for g, s in state.goals
        ],
    }


def report_text(state: BudgetState) -> str:
    c = state.currency
    lines = [f"Budget and labeling efficiency, task {state.task}, as of {state.as_of}"]
    lines.append(
        f"  spent {state.spent:,.2f} {c}; {state.effort.hours:,.1f} h over "
        f"{state.effort.events:,} events"
    )
    for kind, amount in state.spend_by_kind.items():
        work = state.effort_by_kind[kind]
        rate = "" if math.isnan(work.labels_per_hour) else f", {work.labels_per_hour:.1f} labels/h"
        median = "" if math.isnan(work.median_seconds) else f", median {work.median_seconds:.0f} s"
        lines.append(f"    {kind:<15} {amount:>12,.2f} {c}  {work.hours:8.1f} h{rate}{median}")
    lines.append(
        f"  cost per human label {_num(state.unit.per_human_label)}, per weak label "
        f"{_num(state.unit.per_weak_label)}, per correct label "
        f"{_interval(state.unit.per_correct_label)} {c}"
    )
    lines.append(
        f"  rework share {_interval(state.rework)}; audit acceptance {_interval(state.acceptance)}"
    )
    for subtask, n in state.labels.items():
        lines.append(
            f"  {subtask}: {n.delivered:,} labels: human {n.human:,}, audited {n.audited:,}, "
            f"weak only {n.weak_only:,}; uncovered {n.uncovered:,}"
        )
    s = state.savings
    money = "unknown" if s.amount is None else f"{s.amount:,.2f} {c}"
    lines.append(f"  savings vs labeling by hand: {money}; hours saved {s.hours_saved:,.1f}")
    lines += [f"    assumes {a}" for a in s.assumptions]
    for item in state.forecasts:
        f, b = item.forecast, item.budget
        lines.append(
            f"  budget {b.name!r}: {f.spent:,.2f} of {b.amount:,.2f} {c} spent "
            f"({b.period_start} .. {b.period_end}); burn {_interval(f.burn_rate)} {c}/day"
        )
        lines.append(
            f"    projected at period end {_interval(f.projected)} {c}"
            + ("  OVERRUN" if f.overrun else "")
            + (
                f"; runs out {f.exhaustion} [{f.exhaustion_earliest} .. {f.exhaustion_latest}]"
                if f.exhaustion
                else ""
            )
        )
    for goal, status in state.goals:
        lines.append(f"  goal {goal.goal_id} {goal.kind}: {status.status} - {status.reason}")
    return "\n".join(lines)


def _interval(e: Any) -> str:
    if not e.defined:
        return f"n/a ({e.reason})"
    if math.isnan(e.low):
        return _num(e.value)
    return f"{_num(e.value)} [{_num(e.low)}, {_num(e.high)}]"


def _num(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    return f"{x:,.4f}" if abs(x) < 10 else f"{x:,.2f}"


def _estimate(e: Any) -> dict[str, Any]:
    return {"value": e.value, "low": e.low, "high": e.high, "n": e.n, "reason": e.reason}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise BudgetInputError(f"amount {text!r} is not a decimal number") from exc
    if not value.is_finite():
        raise BudgetInputError(f"amount {text!r} is not a finite number")
    return value


def _date(text: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise BudgetInputError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from exc


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise BudgetInputError(f"--param {text!r} is not key=value")
    return key, value


def _list_text(payload: dict[str, Any]) -> str:
    lines = []
    for b in payload["budgets"]:
        lines.append(
            f"{b['task']}/{b['name']}: {b['amount']} {b['currency']} "
            f"{b['period_start']} .. {b['period_end']} ({len(b['history'])} versions)"
        )
    for g in payload["goals"]:
        lines.append(
            f"goal {g['goal_id']} {g['task']} {g['kind']} target {g['target']:g} {g['params']}"
        )
    return "\n".join(lines) or "No budgets or goals."
