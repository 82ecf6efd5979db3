"""Events: the annotation events of one task as arrays (the budget measures' input).

Money is held exactly as integer ten-thousandths (the events table's DECIMAL(18, 4)):
cost_e4 = cost x 10^4, so sums are exact int64 sums (up to 9.2e14 currency units) and
vectorised; `to_money` turns one back into a Decimal with its four places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

KINDS = ("human_label", "audit", "review", "lf_development")
SCALE = 10_000  # DECIMAL(18, 4)


def to_money(cost_e4: int | np.integer) -> Decimal:
    """Ten-thousandths -> Decimal with 4 places (1200000 -> Decimal('120.0000'))."""
    return Decimal(int(cost_e4)).scaleb(-4)


def to_e4(amount: Decimal | str) -> int:
    """Decimal (at most 4 places) -> ten-thousandths; ValueError for finer amounts."""
    scaled = Decimal(amount) * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"amount {amount} has more than 4 decimal places")
    return int(scaled)


@dataclass(frozen=True)
class Events:
    """One entry per annotation event.

    kind: str (n,) one of KINDS; annotator: str (n,); subtask: str (n,), "" where the event
    names none (LF development); item_id: int64 (n,), -1 where none; seconds: float (n,)
    >= 0; cost_e4: int64 (n,) >= 0, the cost in ten-thousandths; day: datetime64[D] (n,).
    """

    kind: np.ndarray
    annotator: np.ndarray
    subtask: np.ndarray
    item_id: np.ndarray
    seconds: np.ndarray
    cost_e4: np.ndarray
    day: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.cost_e4)
        for name in ("kind", "annotator", "subtask", "item_id", "seconds", "day"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Events.{name} has {len(getattr(self, name))} entries, cost {n}")
        if n and float(np.min(self.seconds)) < 0:
            raise ValueError("Events.seconds must be >= 0")
        if n and int(np.min(self.cost_e4)) < 0:
            raise ValueError("Events.cost must be >= 0")

    def __len__(self) -> int:
        return len(self.cost_e4)

    @classmethod
    def empty(cls) -> Events:
        return cls(
            kind=np.array([], dtype=object),
            annotator=np.array([], dtype=object),
            subtask=np.array([], dtype=object),
            item_id=np.array([], dtype=np.int64),
            seconds=np.array([], dtype=float),
            cost_e4=np.array([], dtype=np.int64),
            day=np.array([], dtype="datetime64[D]"),
        )

    def select(self, mask: np.ndarray) -> Events:
        """The events where mask (bool (n,)) is True."""
        return Events(
            kind=self.kind[mask],
            annotator=self.annotator[mask],
            subtask=self.subtask[mask],
            item_id=self.item_id[mask],
            seconds=self.seconds[mask],
            cost_e4=self.cost_e4[mask],
            day=self.day[mask],
        )

    def between(self, start: np.datetime64, end: np.datetime64) -> Events:
        """Events on days start..end, both included."""
        return self.select((self.day >= start) & (self.day <= end))

    def groups(self, by: str) -> dict[str, np.ndarray]:
        """{value of field `by`: bool mask (n,)}, keys sorted, "" left out."""
        values = np.asarray(getattr(self, by), dtype=object)
        if not len(values):
            return {}
        keys, inverse = np.unique(values.astype(str), return_inverse=True)
        return {str(k): inverse == i for i, k in enumerate(keys) if k != ""}
