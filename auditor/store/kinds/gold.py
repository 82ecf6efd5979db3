"""Gold labels: append-only; a changed label is a new row and a change_log entry."""

from __future__ import annotations

from auditor.store.ingest_sql import (
    LABEL_JOIN,
    LABEL_NOT_IN_SET,
    SUBTASK_JOIN,
    TIMESTAMP_SQL,
    UNKNOWN_SUBTASK,
    KindSpec,
    bad_timestamp,
    missing,
    text,
)

GOLD = KindSpec(
    kind="gold",
    required=("item", "label"),
    optional=("subtask", "annotator", "submitted_at", "source"),
    aliases={},
    check_sql=f"""
    WITH c AS (
        SELECT _row, {text("item")}, {text("subtask")}, {text("label")}, {text("annotator")},
               {text("submitted_at")}, {text("source")}
        FROM chunk
    ), j AS (
        SELECT c.*, i.item_id, s.subtask_id, s.name AS subtask_name,
               coalesce(ln.code, lc.code) AS label_code,
               {TIMESTAMP_SQL.format(col="c.submitted_at")} AS submitted_at_value
        FROM c
        LEFT JOIN items i ON i.task_id = $task_id AND i.external_id = c.item
        {SUBTASK_JOIN.format(default_subtask="NULL")}
        {LABEL_JOIN}
    )
    SELECT *, concat_ws('; ',
        {missing("item", "label")},
        CASE WHEN item IS NOT NULL AND item_id IS NULL THEN 'unknown item ' || item END,
        {UNKNOWN_SUBTASK.format(known_default="TRUE")},
        {LABEL_NOT_IN_SET},
        CASE WHEN source IS NOT NULL AND source NOT IN ('import', 'benchmark')
             THEN 'source ' || source || ' is not one of import, benchmark' END,
        {bad_timestamp("submitted_at")}
    ) AS reason
    FROM j
    """,
    stage_ddl="""CREATE TABLE ingest_stage (_row BIGINT, item_id BIGINT, subtask_id INTEGER,
        label SMALLINT, source VARCHAR, annotator VARCHAR, submitted_at TIMESTAMP)""",
    stage_insert="""INSERT INTO ingest_stage SELECT _row, item_id, subtask_id, label_code,
        coalesce(source, $default_source), annotator, submitted_at_value
        FROM checked WHERE reason = ''""",
    key=("item_id", "subtask_id", "source", "annotator"),
    merge_sql=(
        """CREATE TEMP TABLE changed AS
           WITH latest AS (
               SELECT item_id, subtask_id, source, annotator,
                      arg_max(label, gold_id) AS old_label
               FROM gold_labels GROUP BY ALL)
           SELECT s.*, l.old_label FROM ingest_stage s JOIN latest l
               ON l.item_id = s.item_id AND l.subtask_id = s.subtask_id
              AND l.source = s.source AND l.annotator IS NOT DISTINCT FROM s.annotator
           WHERE l.old_label <> s.label""",
        """INSERT INTO change_log SELECT $ingestion_id, 'gold_labels',
               json_object('item_id', item_id, 'subtask_id', subtask_id, 'source', source,
                           'annotator', annotator),
               json_object('label', old_label), json_object('label', label), $now
           FROM changed""",
        """INSERT INTO gold_labels (item_id, subtask_id, label, source, annotator, submitted_at,
               ingestion_id)
           SELECT item_id, subtask_id, label, source, annotator, coalesce(submitted_at, $now),
               $ingestion_id FROM changed""",
        """INSERT INTO gold_labels (item_id, subtask_id, label, source, annotator, submitted_at,
               ingestion_id)
           SELECT s.item_id, s.subtask_id, s.label, s.source, s.annotator,
               coalesce(s.submitted_at, $now), $ingestion_id
           FROM ingest_stage s WHERE NOT EXISTS (SELECT 1 FROM gold_labels g
               WHERE g.item_id = s.item_id AND g.subtask_id = s.subtask_id
                 AND g.source = s.source AND g.annotator IS NOT DISTINCT FROM s.annotator)""",
        "SELECT count(*) FROM ingest_stage",
    ),
    describe_key_sql="item, subtask, source and annotator",
)
