"""Shared pieces of the per-kind ingest SQL (the kinds are in auditor/store/kinds/).

Each KindSpec says which columns a file needs, how a chunk is checked (a SELECT giving
typed values plus ``reason``, empty when the row is valid), the staging table, the key
that must be unique inside one file, and how staged rows merge into the real table.
Values are always bound ($task_id, $now, ...); the only text spliced into SQL is the
fixed column list below and quoted attribute column names (see attributes_sql).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindSpec:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    aliases: dict[str, str]
    check_sql: str
    stage_ddl: str  # the table holding a file's valid rows until the merge (see loading.py)
    stage_insert: str
    key: tuple[str, ...]
    merge_sql: tuple[str, ...]  # run in order; the last three report updated, inserted, unchanged
    describe_key_sql: str  # SELECT _row, text FROM stage-like rows for duplicate messages


def text(column: str) -> str:
    """SQL for a chunk column as trimmed text, NULL when empty (column from a fixed list)."""
    return f"nullif(trim(CAST(chunk.{column} AS VARCHAR)), '') AS {column}"


def attributes_sql(columns: list[str]) -> tuple[str, dict[str, str]]:
    """A json_object over user-named attribute columns: quoted identifiers, bound keys."""
    if not columns:
        return "CAST(NULL AS JSON)", {}
    parts, params = [], {}
    for index, name in enumerate(columns):
        quoted = '"' + name.replace('"', '""') + '"'
        parts.append(f"$attr{index}, chunk.{quoted}")
        params[f"attr{index}"] = name
    return "json_object(" + ", ".join(parts) + ")", params


SUBTASK_JOIN = """
    LEFT JOIN subtasks s ON s.task_id = $task_id
        AND s.name = coalesce(c.subtask, {default_subtask}, $only_subtask)
"""
LABEL_JOIN = """
    LEFT JOIN label_sets ln ON ln.subtask_id = s.subtask_id AND ln.name = c.label
    LEFT JOIN label_sets lc ON lc.subtask_id = s.subtask_id
        AND lc.code = TRY_CAST(c.label AS SMALLINT)
"""
TIMESTAMP_SQL = "CAST(TRY_CAST({col} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"


def missing(*columns: str) -> str:
    return ",\n".join(
        f"CASE WHEN {c} IS NULL THEN 'missing required field {c}' END" for c in columns
    )


def bad_timestamp(column: str) -> str:
    return (
        f"CASE WHEN {column} IS NOT NULL AND {column}_value IS NULL "
        f"THEN 'malformed timestamp ' || {column} || ' in {column}' END"
    )


UNKNOWN_SUBTASK = """
    CASE WHEN subtask IS NOT NULL AND subtask_id IS NULL THEN 'unknown subtask ' || subtask
         WHEN subtask IS NULL AND subtask_id IS NULL AND {known_default}
         THEN 'missing required field subtask (the task has several subtasks)' END"""
LABEL_NOT_IN_SET = """
    CASE WHEN label IS NOT NULL AND subtask_id IS NOT NULL AND label_code IS NULL
         THEN 'label ' || label || ' is not in the label set of subtask ' || subtask_name END"""


def duplicates_sql(spec: KindSpec) -> str:
    """Staged rows whose key appeared at an earlier row of the same file (NULLs match).

    A hash aggregate finds the repeated keys; only their rows are joined back, so a file
    without repeats costs one aggregate, not a sort of every row.
    """
    keys = ", ".join(spec.key)
    same = " AND ".join(f"s.{k} IS NOT DISTINCT FROM d.{k}" for k in spec.key)
    return (
        f"WITH d AS (SELECT {keys}, min(_row) AS first_row FROM ingest_stage GROUP BY ALL "
        f"HAVING count(*) > 1) "
        f"SELECT s._row, d.first_row FROM ingest_stage s JOIN d ON {same} "
        "WHERE s._row <> d.first_row"
    )
