"""The ingest kinds: KINDS maps a kind name to its KindSpec (rules and merge SQL)."""

from __future__ import annotations

from auditor.store.ingest_sql import KindSpec
from auditor.store.kinds.events import EVENTS
from auditor.store.kinds.gold import GOLD
from auditor.store.kinds.items import ITEMS, LFS, items_check_sql
from auditor.store.kinds.votes import VOTES

KINDS = {spec.kind: spec for spec in (ITEMS, LFS, VOTES, GOLD, EVENTS)}


def check_sql(spec: KindSpec, attribute_columns: list[str]) -> tuple[str, dict[str, str]]:
    """The check query for a kind and its extra bound parameters; items also fold their
    extra columns into the attributes JSON."""
    if spec is ITEMS:
        return items_check_sql(attribute_columns)
    return spec.check_sql, {}
