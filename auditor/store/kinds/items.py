"""Items (extra columns become JSON attributes) and labeling functions."""

from __future__ import annotations

from auditor.store.ingest_sql import (
    TIMESTAMP_SQL,
    KindSpec,
    attributes_sql,
    bad_timestamp,
    missing,
    text,
)

ITEMS_CHECK = """
    WITH c AS (
        SELECT _row, {item}, {split}, {created_at}, {attributes} AS attributes FROM chunk
    )
    SELECT c.*, {created_value} AS created_at_value, concat_ws('; ',
        {missing}, {bad_created}) AS reason
    FROM c
"""


ITEMS = KindSpec(
    kind="items",
    required=("item",),
    optional=("split", "created_at"),
    aliases={},
    check_sql=ITEMS_CHECK,  # formatted with the file's attribute columns, see loading.py
    stage_ddl="""CREATE TABLE ingest_stage (_row BIGINT, external_id VARCHAR, split VARCHAR,
        created_at TIMESTAMP, attributes JSON)""",
    stage_insert="""INSERT INTO ingest_stage SELECT _row, item, split, created_at_value, attributes
        FROM checked WHERE reason = ''""",
    key=("external_id",),
    merge_sql=(
        """CREATE TEMP TABLE changed AS
           SELECT s.*, i.item_id, i.split AS old_split, i.created_at AS old_created_at,
                  i.attributes AS old_attributes
           FROM ingest_stage s
           JOIN items i ON i.task_id = $task_id AND i.external_id = s.external_id
           WHERE s.split IS DISTINCT FROM i.split
              OR CAST(s.attributes AS VARCHAR) IS DISTINCT FROM CAST(i.attributes AS VARCHAR)
              OR (s.created_at IS NOT NULL AND s.created_at <> i.created_at)""",
        """INSERT INTO change_log SELECT $ingestion_id, 'items',
               json_object('item_id', item_id, 'external_id', external_id),
               json_object('split', old_split, 'created_at', old_created_at,
                           'attributes', old_attributes),
               json_object('split', split, 'created_at', created_at, 'attributes', attributes),
               $now
           FROM changed""",
        """UPDATE items SET split = c.split, created_at = coalesce(c.created_at, items.created_at),
               attributes = c.attributes
           FROM changed c WHERE items.item_id = c.item_id""",
        """INSERT INTO items (task_id, external_id, split, created_at, attributes)
           SELECT $task_id, s.external_id, s.split, coalesce(s.created_at, $now), s.attributes
           FROM ingest_stage s WHERE NOT EXISTS (SELECT 1 FROM items i
               WHERE i.task_id = $task_id AND i.external_id = s.external_id)""",
        "SELECT count(*) FROM ingest_stage",
    ),
    describe_key_sql="item",
)


LFS = KindSpec(
    kind="lfs",
    required=("lf",),
    optional=("subtask", "kind", "version", "description", "owner", "active"),
    aliases={"name": "lf"},
    check_sql=f"""
    WITH c AS (
        SELECT _row, {text("lf")}, {text("subtask")}, {text("kind")}, {text("version")},
               {text("description")}, {text("owner")}, {text("active")}
        FROM chunk
    ), j AS (
        SELECT c.*, s.subtask_id, TRY_CAST(c.active AS BOOLEAN) AS active_value
        FROM c LEFT JOIN subtasks s ON s.task_id = $task_id AND s.name = c.subtask
    )
    SELECT *, concat_ws('; ',
        {missing("lf")},
        CASE WHEN subtask IS NOT NULL AND subtask_id IS NULL THEN 'unknown subtask ' || subtask END,
        CASE WHEN kind IS NOT NULL
              AND kind NOT IN ('heuristic', 'pattern', 'distant', 'model', 'human')
             THEN 'kind ' || kind || ' is not one of heuristic, pattern, distant, model, human' END,
        CASE WHEN active IS NOT NULL AND active_value IS NULL
             THEN 'active ' || active || ' is not a boolean' END
    ) AS reason
    FROM j
    """,
    stage_ddl="""CREATE TABLE ingest_stage (_row BIGINT, name VARCHAR, subtask_id INTEGER,
        kind VARCHAR, version VARCHAR, description VARCHAR, owner VARCHAR, active BOOLEAN)""",
    stage_insert="""INSERT INTO ingest_stage SELECT _row, lf, subtask_id,
        coalesce(kind, 'heuristic'), coalesce(version, '1'), description, owner,
        coalesce(active_value, TRUE)
        FROM checked WHERE reason = ''""",
    key=("name",),
    merge_sql=(
        """CREATE TEMP TABLE changed AS
           SELECT s.*, f.lf_id, to_json(f) AS old_row
           FROM ingest_stage s JOIN labeling_functions f ON f.task_id = $task_id AND f.name = s.name
           WHERE s.subtask_id IS DISTINCT FROM f.subtask_id OR s.kind <> f.kind
              OR s.version <> f.version OR s.description IS DISTINCT FROM f.description
              OR s.owner IS DISTINCT FROM f.owner OR s.active <> f.active""",
        """INSERT INTO change_log SELECT $ingestion_id, 'labeling_functions',
               json_object('lf_id', lf_id, 'name', name), old_row,
               json_object('subtask_id', subtask_id, 'kind', kind, 'version', version,
                           'description', description, 'owner', owner, 'active', active), $now
           FROM changed""",
        """UPDATE labeling_functions SET subtask_id = c.subtask_id, kind = c.kind,
               version = c.version, description = c.description, owner = c.owner,
               active = c.active
           FROM changed c WHERE labeling_functions.lf_id = c.lf_id""",
        """INSERT INTO labeling_functions (task_id, subtask_id, name, kind, version,
               description, owner, active, created_at)
           SELECT $task_id, s.subtask_id, s.name, s.kind, s.version, s.description, s.owner,
               s.active, $now
           FROM ingest_stage s WHERE NOT EXISTS (SELECT 1 FROM labeling_functions f
               WHERE f.task_id = $task_id AND f.name = s.name)""",
        "SELECT count(*) FROM ingest_stage",
    ),
    describe_key_sql="lf",
)


def items_check_sql(attribute_columns: list[str]) -> tuple[str, dict[str, str]]:
    """ITEMS_CHECK for a file whose extra columns (quoted names, bound keys) are attributes."""
    attributes, params = attributes_sql(attribute_columns)
    sql = ITEMS_CHECK.format(
        item=text("item"),
        split=text("split"),
        created_at=text("created_at"),
        attributes=attributes,
        created_value=TIMESTAMP_SQL.format(col="c.created_at"),
        missing=missing("item"),
        bad_created=bad_timestamp("created_at"),
    )
    return sql, params
