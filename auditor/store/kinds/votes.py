"""Votes: one per item x labeling function x subtask; a changed vote replaces the old."""

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

VOTES = KindSpec(
    kind="votes",
    required=("item", "lf", "label"),
    optional=("subtask", "confidence", "voted_at"),
    aliases={},
    check_sql=f"""
    WITH c AS (
        SELECT _row, {text("item")}, {text("lf")}, {text("subtask")}, {text("label")},
               {text("confidence")}, {text("voted_at")}
        FROM chunk
    ), j AS (
        SELECT c.*, i.item_id, f.lf_id, s.subtask_id, s.name AS subtask_name,
               coalesce(ln.code, lc.code) AS label_code,
               TRY_CAST(c.confidence AS DOUBLE) AS confidence_value,
               {TIMESTAMP_SQL.format(col="c.voted_at")} AS voted_at_value
        FROM c
        LEFT JOIN items i ON i.task_id = $task_id AND i.external_id = c.item
        LEFT JOIN labeling_functions f ON f.task_id = $task_id AND f.name = c.lf
        LEFT JOIN subtasks fs ON fs.subtask_id = f.subtask_id
        {SUBTASK_JOIN.format(default_subtask="fs.name")}
        {LABEL_JOIN}
    )
    SELECT *, concat_ws('; ',
        {missing("item", "lf", "label")},
        CASE WHEN item IS NOT NULL AND item_id IS NULL AND NOT $register
             THEN 'unknown item ' || item END,
        CASE WHEN lf IS NOT NULL AND lf_id IS NULL AND NOT $register
             THEN 'unknown labeling function ' || lf END,
        {UNKNOWN_SUBTASK.format(known_default="(lf_id IS NOT NULL OR $register)")},
        {LABEL_NOT_IN_SET},
        CASE WHEN confidence IS NOT NULL AND confidence_value IS NULL
             THEN 'confidence ' || confidence || ' is not a number'
             WHEN isnan(confidence_value) THEN 'confidence is NaN'
             WHEN confidence_value < 0 OR confidence_value > 1
             THEN 'confidence ' || confidence || ' is outside [0, 1]' END,
        {bad_timestamp("voted_at")}
    ) AS reason
    FROM j
    """,
    stage_ddl="""CREATE TABLE ingest_stage (_row BIGINT, item_id BIGINT, lf_id INTEGER,
        subtask_id INTEGER, label SMALLINT, confidence DOUBLE, voted_at TIMESTAMP)""",
    stage_insert="""INSERT INTO ingest_stage SELECT _row, item_id, lf_id, subtask_id, label_code,
        confidence_value, voted_at_value FROM checked WHERE reason = ''""",
    key=("item_id", "lf_id", "subtask_id"),
    merge_sql=(
        """CREATE TEMP TABLE changed AS
           SELECT s.*, v.label AS old_label, v.confidence AS old_confidence
           FROM ingest_stage s JOIN votes v USING (item_id, lf_id, subtask_id)
           WHERE v.label <> s.label OR v.confidence IS DISTINCT FROM s.confidence""",
        """INSERT INTO change_log SELECT $ingestion_id, 'votes',
               json_object('item_id', item_id, 'lf_id', lf_id, 'subtask_id', subtask_id),
               json_object('label', old_label, 'confidence', old_confidence),
               json_object('label', label, 'confidence', confidence), $now
           FROM changed""",
        """UPDATE votes SET label = c.label, confidence = c.confidence,
               voted_at = coalesce(c.voted_at, $now), ingestion_id = $ingestion_id
           FROM changed c WHERE votes.item_id = c.item_id AND votes.lf_id = c.lf_id
               AND votes.subtask_id = c.subtask_id""",
        """INSERT INTO votes SELECT s.item_id, s.lf_id, s.subtask_id, s.label, s.confidence,
               coalesce(s.voted_at, $now), $ingestion_id
           FROM ingest_stage s ANTI JOIN votes v USING (item_id, lf_id, subtask_id)""",
        "SELECT count(*) FROM ingest_stage",
    ),
    describe_key_sql="item, lf and subtask",
)
