"""Annotation events: who spent how long and how much; one currency per task."""

from __future__ import annotations

from auditor.store.ingest_sql import (
    LABEL_JOIN,
    LABEL_NOT_IN_SET,
    TIMESTAMP_SQL,
    KindSpec,
    bad_timestamp,
    missing,
    text,
)

EVENTS = KindSpec(
    kind="events",
    required=("annotator", "kind", "seconds", "cost", "occurred_at"),
    optional=("item", "subtask", "label", "currency"),
    aliases={"at": "occurred_at"},
    check_sql=f"""
    WITH c AS (
        SELECT _row, {text("annotator")}, {text("kind")}, {text("seconds")}, {text("cost")},
               {text("occurred_at")}, {text("item")}, {text("subtask")}, {text("label")},
               upper({text("currency").removesuffix(" AS currency")}) AS currency
        FROM chunk
    ), j AS (
        SELECT c.*, i.item_id, s.subtask_id, s.name AS subtask_name,
               coalesce(ln.code, lc.code) AS label_code,
               TRY_CAST(c.seconds AS DOUBLE) AS seconds_value,
               TRY_CAST(c.cost AS DECIMAL(18, 4)) AS cost_value,
               {TIMESTAMP_SQL.format(col="c.occurred_at")} AS occurred_at_value
        FROM c
        LEFT JOIN items i ON i.task_id = $task_id AND i.external_id = c.item
        LEFT JOIN subtasks s ON s.task_id = $task_id AND s.name = c.subtask
        {LABEL_JOIN}
    )
    SELECT *, concat_ws('; ',
        {missing("annotator", "kind", "seconds", "cost", "occurred_at")},
        CASE WHEN kind NOT IN ('human_label', 'audit', 'review', 'lf_development')
             THEN 'kind ' || kind || ' is not one of human_label, audit, review, lf_development'
        END,
        CASE WHEN seconds IS NOT NULL AND (seconds_value IS NULL OR isnan(seconds_value))
             THEN 'seconds ' || seconds || ' is not a number'
             WHEN seconds_value < 0 THEN 'seconds ' || seconds || ' is negative' END,
        CASE WHEN cost IS NOT NULL AND cost_value IS NULL
             THEN 'cost ' || cost || ' is not a decimal amount'
             WHEN cost_value < 0 THEN 'cost ' || cost || ' is negative' END,
        CASE WHEN item IS NOT NULL AND item_id IS NULL THEN 'unknown item ' || item END,
        CASE WHEN subtask IS NOT NULL AND subtask_id IS NULL THEN 'unknown subtask ' || subtask END,
        CASE WHEN label IS NOT NULL AND subtask_id IS NULL
             THEN 'label given without a known subtask' END,
        {LABEL_NOT_IN_SET},
        CASE WHEN coalesce(currency, $currency) <> $currency
             THEN 'currency ' || currency || ' differs from the task''s currency '
                  || $currency || ' (one currency per task)' END,
        {bad_timestamp("occurred_at")}
    ) AS reason
    FROM j
    """,
    stage_ddl="""CREATE TABLE ingest_stage (_row BIGINT, annotator VARCHAR, kind VARCHAR,
        seconds DOUBLE, cost DECIMAL(18, 4), occurred_at TIMESTAMP, item_id BIGINT,
        subtask_id INTEGER, label SMALLINT)""",
    stage_insert="""INSERT INTO ingest_stage SELECT _row, annotator, kind, seconds_value,
        cost_value, occurred_at_value, item_id, subtask_id, label_code
        FROM checked WHERE reason = ''""",
    key=("annotator", "item_id", "subtask_id", "kind", "occurred_at"),
    merge_sql=(
        """CREATE TEMP TABLE changed AS
           SELECT s.*, e.event_id, e.seconds AS old_seconds, e.cost AS old_cost,
                  e.label AS old_label
           FROM ingest_stage s JOIN annotation_events e ON e.task_id = $task_id
               AND e.annotator = s.annotator AND e.kind = s.kind
               AND e.occurred_at = s.occurred_at
               AND e.item_id IS NOT DISTINCT FROM s.item_id
               AND e.subtask_id IS NOT DISTINCT FROM s.subtask_id
           WHERE e.seconds <> s.seconds OR e.cost <> s.cost
              OR e.label IS DISTINCT FROM s.label""",
        """INSERT INTO change_log SELECT $ingestion_id, 'annotation_events',
               json_object('event_id', event_id),
               json_object('seconds', old_seconds, 'cost', old_cost, 'label', old_label),
               json_object('seconds', seconds, 'cost', cost, 'label', label), $now
           FROM changed""",
        """UPDATE annotation_events SET seconds = c.seconds, cost = c.cost, label = c.label,
               ingestion_id = $ingestion_id
           FROM changed c WHERE annotation_events.event_id = c.event_id""",
        """INSERT INTO annotation_events (task_id, annotator, item_id, subtask_id, kind, label,
               seconds, cost, currency, occurred_at, ingestion_id)
           SELECT $task_id, s.annotator, s.item_id, s.subtask_id, s.kind, s.label, s.seconds,
               s.cost, $currency, s.occurred_at, $ingestion_id
           FROM ingest_stage s WHERE NOT EXISTS (SELECT 1 FROM annotation_events e
               WHERE e.task_id = $task_id AND e.annotator = s.annotator AND e.kind = s.kind
                 AND e.occurred_at = s.occurred_at
                 AND e.item_id IS NOT DISTINCT FROM s.item_id
                 AND e.subtask_id IS NOT DISTINCT FROM s.subtask_id)""",
        "SELECT count(*) FROM ingest_stage",
    ),
    describe_key_sql="annotator, item, subtask, kind and occurred_at",
)
