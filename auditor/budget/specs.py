"""What a team defined: budgets (amount, currency, period) and goals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

GOAL_KINDS = ("reduce_hours", "accuracy_within_budget", "max_cost_per_correct_label")


@dataclass(frozen=True)
class Budget:
    budget_id: int
    task: str
    name: str
    amount: Decimal
    currency: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class Goal:
    """target: a share for reduce_hours (0.3 = 30% fewer hours), an accuracy for
    accuracy_within_budget, an amount for max_cost_per_correct_label. params: reduce_hours
    needs baseline_start and baseline_end (ISO dates); accuracy_within_budget may name a
    subtask (default: all audited subtasks pooled). budget_id: the budget it is measured
    against (required for accuracy_within_budget)."""

    goal_id: int
    task: str
    kind: str
    target: float
    budget_id: int | None
    params: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"goal:{self.goal_id}:{self.kind}"
