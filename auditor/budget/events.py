"""Events: the annotation events of one task as arrays (the budget measures' input)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

KINDS = ("human_label", "audit", "review", "lf_development")


@dataclass(frozen=True)
class Events:
    """One entry per annotation event.

    kind: str (n,) one of KINDS; annotator: str (n,); subtask: str (n,), "" where the event
    names none (LF development); item_id: int64 (n,), -1 where none; seconds: float (n,)
    >= 0; cost: tuple of n Decimal (exact money); day: datetime64[D] (n,) UTC day.
    """

    kind: np.ndarray
    annotator: np.ndarray
    subtask: np.ndarray
    item_id: np.ndarray
    seconds: np.ndarray
    cost: tuple[Decimal, ...]
    day: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.cost)
        for name in ("kind", "annotator", "subtask", "item_id", "seconds", "day"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Events.{name} has {len(getattr(self, name))} entries, cost {n}")
        if n and float(np.min(self.seconds)) < 0:
            raise ValueError("Events.seconds must be >= 0")
        if any(c < 0 for c in self.cost):
            raise ValueError("Events.cost must be >= 0")

    def __len__(self) -> int:
        return len(self.cost)

    @classmethod
    def empty(cls) -> Events:
        return cls(
            kind=np.array([], dtype=object),
            annotator=np.array([], dtype=object),
            subtask=np.array([], dtype=object),
            item_id=np.array([], dtype=np.int64),
            seconds=np.array([], dtype=float),
            cost=(),
            day=np.array([], dtype="datetime64[D]"),
        )

    def select(self, mask: np.ndarray) -> Events:
        """The events where mask (bool (n,)) is True."""
        index = np.flatnonzero(mask)
        return Events(
            kind=self.kind[index],
            annotator=self.annotator[index],
            subtask=self.subtask[index],
            item_id=self.item_id[index],
            seconds=self.seconds[index],
            cost=tuple(self.cost[i] for i in index),
            day=self.day[index],
        )

    def between(self, start: np.datetime64, end: np.datetime64) -> Events:
        """Events on days start..end, both included."""
        return self.select((self.day >= start) & (self.day <= end))
