-- labelwatch schema: the one place that holds DDL.
--
-- Each "-- migration: N <description>" section is a forward migration. `labelwatch init`
-- applies, in one transaction per section, every section whose number is above the
-- version recorded in schema_version, so running it again changes nothing. Never edit a
-- section that has shipped: append a new one.
--
-- Conventions: surrogate integer ids (item_id, lf_id, ...) for joins over large tables;
-- names and external ids are what users see. Timestamps are UTC without a zone.
-- Money is DECIMAL(18, 4) so that totals reconcile exactly.
-- No FOREIGN KEY clauses: DuckDB cannot update a row that a foreign key references (even
-- a non-key column), so references are kept by the loaders, which resolve every name to
-- an id by join and quarantine rows that name unknown items, LFs or subtasks.

-- migration: 1 initial schema
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE task_id_seq START 1;
CREATE TABLE tasks (
    task_id INTEGER PRIMARY KEY DEFAULT nextval('task_id_seq'),
    name VARCHAR NOT NULL UNIQUE,
    description VARCHAR,
    created_at TIMESTAMP NOT NULL
);

-- The decomposition tree: a subtask may refine one label of a parent subtask
-- (stage 2 `billing_issue_type` exists only under topic = billing).
CREATE SEQUENCE subtask_id_seq START 1;
CREATE TABLE subtasks (
    subtask_id INTEGER PRIMARY KEY DEFAULT nextval('subtask_id_seq'),
    task_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    parent_subtask_id INTEGER,
    parent_label SMALLINT,
    description VARCHAR,
    manual_cost_per_label DECIMAL(18, 4),
    UNIQUE (task_id, name),
    CHECK ((parent_subtask_id IS NULL) = (parent_label IS NULL))
);

-- Label set of a subtask: integer codes 0..k-1 (what label matrices hold) and names.
CREATE TABLE label_sets (
    subtask_id INTEGER NOT NULL,
    code SMALLINT NOT NULL CHECK (code >= 0),
    name VARCHAR NOT NULL,
    PRIMARY KEY (subtask_id, code),
    UNIQUE (subtask_id, name)
);

CREATE SEQUENCE item_id_seq START 1;
CREATE TABLE items (
    item_id BIGINT PRIMARY KEY DEFAULT nextval('item_id_seq'),
    task_id INTEGER NOT NULL,
    external_id VARCHAR NOT NULL,
    split VARCHAR,
    created_at TIMESTAMP NOT NULL,
    attributes JSON,
    UNIQUE (task_id, external_id)
);

CREATE SEQUENCE lf_id_seq START 1;
CREATE TABLE labeling_functions (
    lf_id INTEGER PRIMARY KEY DEFAULT nextval('lf_id_seq'),
    task_id INTEGER NOT NULL,
    subtask_id INTEGER,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL DEFAULT 'heuristic'
        CHECK (kind IN ('heuristic', 'pattern', 'distant', 'model', 'human')),
    version VARCHAR NOT NULL DEFAULT '1',
    description VARCHAR,
    owner VARCHAR,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (task_id, name)
);

-- One row per item x LF x subtask; the loader keeps that key unique (no index: an index
-- on tens of millions of votes costs more than the anti-join the loader does anyway).
CREATE TABLE votes (
    item_id BIGINT NOT NULL,
    lf_id INTEGER NOT NULL,
    subtask_id INTEGER NOT NULL,
    label SMALLINT NOT NULL,
    confidence DOUBLE CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
    voted_at TIMESTAMP NOT NULL,
    ingestion_id BIGINT
);

-- Imported gold (source 'import') and benchmark gold (source 'benchmark', e.g. WRENCH
-- valid/test labels, never used as auditor gold unless asked). Append-only.
CREATE SEQUENCE gold_id_seq START 1;
CREATE TABLE gold_labels (
    gold_id BIGINT PRIMARY KEY DEFAULT nextval('gold_id_seq'),
    item_id BIGINT NOT NULL,
    subtask_id INTEGER NOT NULL,
    label SMALLINT NOT NULL,
    source VARCHAR NOT NULL CHECK (source IN ('import', 'benchmark')),
    annotator VARCHAR,
    submitted_at TIMESTAMP NOT NULL,
    ingestion_id BIGINT
);

-- Auditors' corrections. Append-only: a later row for the same item and subtask wins.
CREATE SEQUENCE correction_id_seq START 1;
CREATE TABLE corrections (
    correction_id BIGINT PRIMARY KEY DEFAULT nextval('correction_id_seq'),
    item_id BIGINT NOT NULL,
    subtask_id INTEGER NOT NULL,
    label SMALLINT NOT NULL,
    auditor VARCHAR NOT NULL,
    previous_label SMALLINT,
    seconds DOUBLE CHECK (seconds IS NULL OR seconds >= 0),
    note VARCHAR,
    submitted_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE event_id_seq START 1;
CREATE TABLE annotation_events (
    event_id BIGINT PRIMARY KEY DEFAULT nextval('event_id_seq'),
    task_id INTEGER NOT NULL,
    annotator VARCHAR NOT NULL,
    item_id BIGINT,
    subtask_id INTEGER,
    kind VARCHAR NOT NULL CHECK (kind IN ('human_label', 'audit', 'review', 'lf_development')),
    label SMALLINT,
    seconds DOUBLE NOT NULL CHECK (seconds >= 0),
    cost DECIMAL(18, 4) NOT NULL CHECK (cost >= 0),
    currency VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    ingestion_id BIGINT
);

CREATE SEQUENCE budget_id_seq START 1;
CREATE TABLE budgets (
    budget_id INTEGER PRIMARY KEY DEFAULT nextval('budget_id_seq'),
    task_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    amount DECIMAL(18, 4) NOT NULL CHECK (amount >= 0),
    currency VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (task_id, name),
    CHECK (period_end >= period_start)
);

CREATE SEQUENCE goal_id_seq START 1;
CREATE TABLE goals (
    goal_id INTEGER PRIMARY KEY DEFAULT nextval('goal_id_seq'),
    task_id INTEGER NOT NULL,
    budget_id INTEGER,
    kind VARCHAR NOT NULL
        CHECK (kind IN ('reduce_hours', 'accuracy_within_budget', 'max_cost_per_correct_label')),
    target DOUBLE NOT NULL,
    params JSON,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE fusion_run_id_seq START 1;
CREATE TABLE fusion_runs (
    fusion_run_id BIGINT PRIMARY KEY DEFAULT nextval('fusion_run_id_seq'),
    job_run_id BIGINT,
    task_id INTEGER NOT NULL,
    subtask_id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    config JSON,
    n_items BIGINT,
    n_votes BIGINT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE fused_labels (
    fusion_run_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    subtask_id INTEGER NOT NULL,
    label SMALLINT NOT NULL,
    probabilities DOUBLE[] NOT NULL,
    entropy DOUBLE NOT NULL,
    margin DOUBLE NOT NULL,
    uncovered BOOLEAN NOT NULL
);

-- Long metric history: one row per metric x scope x key x window x run.
CREATE TABLE metrics (
    job_run_id BIGINT,
    computed_at TIMESTAMP NOT NULL,
    metric VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    window_start TIMESTAMP,
    window_end TIMESTAMP,
    value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    details JSON
);

CREATE SEQUENCE alert_id_seq START 1;
CREATE TABLE alerts (
    alert_id BIGINT PRIMARY KEY DEFAULT nextval('alert_id_seq'),
    severity VARCHAR NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    metric VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    state VARCHAR NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    resolved_at TIMESTAMP
);

CREATE SEQUENCE job_run_id_seq START 1;
CREATE TABLE job_runs (
    job_run_id BIGINT PRIMARY KEY DEFAULT nextval('job_run_id_seq'),
    job VARCHAR NOT NULL,
    task VARCHAR,
    trigger_time TIMESTAMP,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    rows_read BIGINT,
    rows_written BIGINT,
    error VARCHAR,
    traceback VARCHAR,
    duration_s DOUBLE
);

-- One row per ingest command: what it read and what became of it.
CREATE SEQUENCE ingestion_id_seq START 1;
CREATE TABLE ingestions (
    ingestion_id BIGINT PRIMARY KEY DEFAULT nextval('ingestion_id_seq'),
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    task VARCHAR,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    rows_read BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    quarantined BIGINT NOT NULL
);

-- Rows an ingest refused, with the reason; nothing of them lands elsewhere.
CREATE SEQUENCE quarantine_id_seq START 1;
CREATE TABLE quarantine (
    quarantine_id BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id_seq'),
    ingestion_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    raw VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
);

-- What a re-ingest changed: the old and new values of a replaced row.
CREATE TABLE change_log (
    ingestion_id BIGINT NOT NULL,
    table_name VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL,
    old_value VARCHAR NOT NULL,
    new_value VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

-- migration: 2 label-model estimates per LF and fused-run provenance
-- What the label model learned about each LF in a fusion run (accuracy, coverage, the
-- confusion it uses), so the dashboard and metrics can show it without refitting.
CREATE TABLE lf_estimates (
    fusion_run_id BIGINT NOT NULL,
    lf_id INTEGER NOT NULL,
    accuracy DOUBLE NOT NULL,
    propensity DOUBLE NOT NULL,
    model VARCHAR NOT NULL,
    confusion JSON NOT NULL
);
ALTER TABLE fusion_runs ADD COLUMN class_balance DOUBLE[];
ALTER TABLE fusion_runs ADD COLUMN temperature DOUBLE;
ALTER TABLE fusion_runs ADD COLUMN n_gold BIGINT;
ALTER TABLE fusion_runs ADD COLUMN seconds DOUBLE;

-- migration: 3 metric history per task, alert provenance
-- The metrics job replaces one task's rows for the windows it recomputes; older windows
-- (history) stay. Alerts name their task and the window whose rows raised them.
ALTER TABLE metrics ADD COLUMN task VARCHAR;
ALTER TABLE alerts ADD COLUMN task VARCHAR;
ALTER TABLE alerts ADD COLUMN acknowledged_by VARCHAR;

-- migration: 4 audit loop: sampled rounds, the queue, adjudication; subtask-boundary rules
-- A round samples items by Poisson sampling: item i is in it with probability
-- inclusion_probability = 1 - (1 - pi_random)(1 - pi_targeted); from_random marks the
-- items the uniform share drew (their own uniform sample: a Wilson interval from them
-- alone is valid). confidence is the model's P(label is right) the estimators use.
CREATE SEQUENCE audit_round_id_seq START 1;
CREATE TABLE audit_rounds (
    round_id BIGINT PRIMARY KEY DEFAULT nextval('audit_round_id_seq'),
    task_id INTEGER NOT NULL,
    job_run_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    budget_items DOUBLE,
    budget_cost DECIMAL(18, 4),
    random_share DOUBLE NOT NULL CHECK (random_share >= 0 AND random_share <= 1),
    strategy_weights JSON NOT NULL,
    stratify_by VARCHAR,
    population BIGINT NOT NULL,
    expected_size DOUBLE NOT NULL,
    seed BIGINT NOT NULL
);
-- What the estimators need of the items a round did not sample: per subtask, fused label
-- and confidence bin (100 equal-width bins of the top posterior), how many eligible items
-- there were and the sum of their confidences (a calibration map fitted later on the
-- audits is applied bin by bin).
CREATE TABLE audit_population (
    round_id BIGINT NOT NULL,
    subtask_id INTEGER NOT NULL,
    label SMALLINT NOT NULL,
    confidence_bin SMALLINT NOT NULL,
    n_items BIGINT NOT NULL,
    sum_confidence DOUBLE NOT NULL
);
CREATE TABLE audit_queue (
    round_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    subtask_id INTEGER NOT NULL,
    fused_label SMALLINT NOT NULL,
    confidence DOUBLE NOT NULL,
    strategy VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    stratum VARCHAR NOT NULL,
    inclusion_probability DOUBLE NOT NULL
        CHECK (inclusion_probability > 0 AND inclusion_probability <= 1),
    from_random BOOLEAN NOT NULL,
    assigned_to VARCHAR,
    state VARCHAR NOT NULL CHECK (state IN ('open', 'done', 'skipped')),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    PRIMARY KEY (round_id, item_id, subtask_id)
);
ALTER TABLE corrections ADD COLUMN round_id BIGINT;
-- An admin's decision where auditors disagree; the latest per item and subtask decides.
CREATE SEQUENCE adjudication_id_seq START 1;
CREATE TABLE adjudications (
    adjudication_id BIGINT PRIMARY KEY DEFAULT nextval('adjudication_id_seq'),
    item_id BIGINT NOT NULL,
    subtask_id INTEGER NOT NULL,
    label SMALLINT NOT NULL,
    admin VARCHAR NOT NULL,
    note VARCHAR,
    decided_at TIMESTAMP NOT NULL
);
-- The audited label of an item: an adjudication if any; else the auditors' labels when
-- every auditor's latest correction agrees; items where they disagree have no audited
-- label until adjudicated (needs_adjudication).
CREATE VIEW audited_labels AS
WITH latest AS (
    SELECT item_id, subtask_id, auditor, arg_max(label, correction_id) AS label
    FROM corrections GROUP BY ALL),
agreed AS (
    SELECT item_id, subtask_id, min(label) AS label, count(DISTINCT label) > 1 AS disputed,
           count(*) AS n_auditors
    FROM latest GROUP BY ALL),
decided AS (
    SELECT item_id, subtask_id, arg_max(label, adjudication_id) AS label
    FROM adjudications GROUP BY ALL)
SELECT a.item_id, a.subtask_id,
       CASE WHEN d.label IS NOT NULL THEN d.label WHEN a.disputed THEN NULL ELSE a.label END
           AS label,
       a.disputed AND d.label IS NULL AS needs_adjudication,
       d.label IS NOT NULL AS adjudicated,
       a.n_auditors
FROM agreed a LEFT JOIN decided d USING (item_id, subtask_id);

-- Violations found by the rules job's latest run per task (replaced each run).
CREATE TABLE rule_violations (
    job_run_id BIGINT,
    checked_at TIMESTAMP NOT NULL,
    task_id INTEGER NOT NULL,
    rule VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    item_id BIGINT,
    lf_id INTEGER,
    subtasks VARCHAR NOT NULL,
    labels VARCHAR NOT NULL,
    detail VARCHAR
);

-- migration: 5 budget history
-- Every change of a budget (creation included): what it was set to, when and by whom.
-- Goals keep their history in `goals` itself: a replaced goal is deactivated, not deleted.
CREATE TABLE budget_history (
    budget_id INTEGER NOT NULL,
    task_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    amount DECIMAL(18, 4) NOT NULL,
    currency VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL
);
INSERT INTO budget_history
SELECT budget_id, task_id, name, amount, currency, period_start, period_end, created_at,
       'migration'
FROM budgets;

-- migration: 6 scheduler: input fingerprints and retry attempts of job runs
-- inputs: what the job read (counts and newest ids of its input tables), recorded on
-- every run; the scheduler skips a run whose inputs equal the last succeeded run's.
ALTER TABLE job_runs ADD COLUMN inputs VARCHAR;
ALTER TABLE job_runs ADD COLUMN attempt INTEGER;
