"""Alert conditions of the budget job: overrun, goals at risk, cost per correct label jumps.

Identities (metric, "<task>/task", key): budget.projected_spend per budget (warning when the
projection exceeds the amount, critical once spend does), goal.status per goal (warning at
risk, critical off track), cost.per_correct_label_jump (warning above the threshold).
"""

from __future__ import annotations

from auditor.budget.state import BudgetState
from auditor.metrics.alert_rules import Condition


def budget_conditions(
    state: BudgetState, *, cost_jump_relative: float
) -> tuple[list[Condition], set[tuple[str, str, str]]]:
    """Alert conditions that hold now, and every identity evaluated (to resolve the rest)."""
    scope = f"{state.task}/task"
    conditions: list[Condition] = []
    evaluated: set[tuple[str, str, str]] = set()
    for item in state.forecasts:
        f, b = item.forecast, item.budget
        evaluated.add(("budget.projected_spend", scope, b.name))
        if f.spent > f.amount:
            conditions.append(
                Condition(
                    "critical",
                    "budget.projected_spend",
                    scope,
                    b.name,
                    f"budget {b.name!r} exhausted on {f.exhausted_on}: spent {f.spent:.2f} of "
                    f"{f.amount:.2f} {b.currency}",
                )
            )
        elif f.overrun:
            when = (
                f"; runs out around {f.exhaustion} [{f.exhaustion_earliest}, {f.exhaustion_latest}]"
            )
            conditions.append(
                Condition(
                    "warning",
                    "budget.projected_spend",
                    scope,
                    b.name,
                    f"budget {b.name!r}: projected {f.projected.value:.2f} {b.currency} at "
                    f"{b.period_end} [{f.projected.low:.2f}, {f.projected.high:.2f}] exceeds "
                    f"{f.amount:.2f} (spent {f.spent:.2f} as of {f.as_of}){when}",
                )
            )
    for goal, status in state.goals:
        evaluated.add(("goal.status", scope, goal.key))
        if status.status != "on_track":
            severity = "critical" if status.status == "off_track" else "warning"
            conditions.append(
                Condition(
                    severity,
                    "goal.status",
                    scope,
                    goal.key,
                    f"goal {goal.kind} (target {goal.target:g}) is "
                    f"{status.status.replace('_', ' ')}: {status.reason}",
                )
            )
    evaluated.add(("cost.per_correct_label_jump", scope, "all"))
    jump = state.cost_jump
    if jump.defined and jump.value > cost_jump_relative:
        conditions.append(
            Condition(
                "warning",
                "cost.per_correct_label_jump",
                scope,
                "all",
                f"cost per correct label rose {jump.value:+.0%} over the last window "
                f"({jump.details['previous']:.4f} -> {jump.details['current']:.4f} "
                f"{state.currency})",
            )
        )
    return conditions, evaluated
