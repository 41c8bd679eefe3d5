#include "store/sqlite/schema.h"

namespace assay {

const std::vector<std::string_view>& sqlite_migrations() {
    static const std::vector<std::string_view> k_migrations = {
        // 1: the foundation schema.
        R"sql(
CREATE TABLE traces (
  id              INTEGER PRIMARY KEY,
  trace_id        TEXT NOT NULL UNIQUE,
  ts_ms           INTEGER NOT NULL,
  received_ms     INTEGER NOT NULL,
  feature         TEXT,
  tenant          TEXT,
  user_id         TEXT,
  session_id      TEXT,
  prompt_name     TEXT,
  prompt_version  TEXT,
  model           TEXT,
  environment     TEXT,
  expected_format TEXT,
  finish_reason   TEXT,
  error_type      TEXT,
  latency_ms      REAL,
  ttft_ms         REAL,
  input_tokens    INTEGER,
  output_tokens   INTEGER,
  cached_tokens   INTEGER,
  cost_usd        REAL,
  raw             TEXT NOT NULL
);
CREATE INDEX traces_ts ON traces(ts_ms);
CREATE INDEX traces_feature ON traces(feature, ts_ms);
CREATE INDEX traces_tenant ON traces(tenant, ts_ms);
CREATE INDEX traces_prompt_version ON traces(prompt_version, ts_ms);
CREATE INDEX traces_model ON traces(model, ts_ms);

CREATE TABLE scorer_versions (
  id              INTEGER PRIMARY KEY,
  scorer          TEXT NOT NULL,
  version         TEXT NOT NULL,
  type            TEXT NOT NULL,
  config_json     TEXT NOT NULL,
  first_seen_ms   INTEGER NOT NULL,
  last_seen_ms    INTEGER NOT NULL,
  UNIQUE (scorer, version)
);

CREATE TABLE decisions (
  code            INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE
);
INSERT INTO decisions (code, name) VALUES (0, 'scored'), (1, 'filtered_out'), (2, 'sampled_out'),
  (3, 'skipped_missing_input'), (4, 'pending'), (5, 'skipped_budget'), (6, 'failed');

-- One row per trace x scorer version: the decision and, when scored, the score.
CREATE TABLE scores (
  trace           INTEGER NOT NULL REFERENCES traces(id),
  scorer_version  INTEGER NOT NULL REFERENCES scorer_versions(id),
  decision        INTEGER NOT NULL REFERENCES decisions(code),
  value           REAL,
  passed          INTEGER,
  label           TEXT,
  explanation     TEXT,
  reason          TEXT,
  at_ms           INTEGER NOT NULL,
  CHECK ((decision = 0) = (value IS NOT NULL)),
  PRIMARY KEY (trace, scorer_version)
) WITHOUT ROWID;
CREATE INDEX scores_bottom ON scores(scorer_version, passed, value) WHERE decision = 0;

-- The same, with names: what to query by hand.
CREATE VIEW scores_view AS
SELECT t.trace_id, v.scorer, v.version AS scorer_version, d.name AS decision, s.value, s.passed,
       s.label, s.explanation, s.reason, s.at_ms
FROM scores s
JOIN traces t ON t.id = s.trace
JOIN scorer_versions v ON v.id = s.scorer_version
JOIN decisions d ON d.code = s.decision;

CREATE TABLE dead_letters (
  id              INTEGER PRIMARY KEY,
  received_ms     INTEGER NOT NULL,
  source          TEXT NOT NULL,
  line            INTEGER,
  error           TEXT NOT NULL,
  raw             BLOB NOT NULL,
  raw_bytes       INTEGER NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters(received_ms);

CREATE TABLE sampler_counters (
  scorer          TEXT NOT NULL,
  day             TEXT NOT NULL,
  seen            INTEGER NOT NULL DEFAULT 0,
  in_scope        INTEGER NOT NULL DEFAULT 0,
  sampled         INTEGER NOT NULL DEFAULT 0,
  forced          INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (scorer, day)
) WITHOUT ROWID;

CREATE TABLE judge_queue (
  trace           INTEGER NOT NULL REFERENCES traces(id),
  scorer_version  INTEGER NOT NULL REFERENCES scorer_versions(id),
  enqueued_ms     INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (trace, scorer_version)
) WITHOUT ROWID;
CREATE INDEX judge_queue_enqueued ON judge_queue(enqueued_ms);

CREATE VIEW judge_queue_view AS
SELECT t.trace_id, v.scorer, v.version AS scorer_version, q.enqueued_ms, q.attempts
FROM judge_queue q
JOIN traces t ON t.id = q.trace
JOIN scorer_versions v ON v.id = q.scorer_version;
)sql",
        // otlp spans: spans received over OTLP/HTTP whose trace is not complete
        // yet (store/span_store.h). A row is deleted once its trace is scored.
        R"sql(
CREATE TABLE otlp_spans (
  id              INTEGER PRIMARY KEY,
  trace_key       TEXT NOT NULL,
  span_id         TEXT NOT NULL,
  received_ms     INTEGER NOT NULL,
  span_json       TEXT NOT NULL,
  UNIQUE (trace_key, span_id)
);
CREATE INDEX otlp_spans_received ON otlp_spans(received_ms);
)sql",
        // Monitoring (issue 7): aggregates, alert state, the aggregator's watermark.
        R"sql(
-- One row per scorer version x feature x prompt_version x tenant x model x
-- bucket ('hour' or 'day', by the trace's timestamp). Recomputed from
-- scores/traces (and judgements when present) by the aggregator: a bucket is
-- always replaced whole, never incremented, so a crash or a rerun never
-- double-counts. Missing metadata is stored as ''.
CREATE TABLE aggregates (
  scorer              TEXT NOT NULL,
  scorer_version      TEXT NOT NULL,
  feature             TEXT NOT NULL,
  prompt_version      TEXT NOT NULL,
  tenant              TEXT NOT NULL,
  model               TEXT NOT NULL,
  bucket              TEXT NOT NULL CHECK (bucket IN ('hour', 'day')),
  bucket_start_ms     INTEGER NOT NULL,
  count               INTEGER NOT NULL DEFAULT 0,   -- decision scored
  sum                 REAL NOT NULL DEFAULT 0,      -- of values
  sum_sq              REAL NOT NULL DEFAULT 0,      -- of squared values (variance)
  passed              INTEGER NOT NULL DEFAULT 0,
  failed              INTEGER NOT NULL DEFAULT 0,
  seen                INTEGER NOT NULL DEFAULT 0,   -- every decision row
  in_scope            INTEGER NOT NULL DEFAULT 0,   -- not filtered out
  sampled             INTEGER NOT NULL DEFAULT 0,   -- not filtered out, not sampled out
  pending             INTEGER NOT NULL DEFAULT 0,
  skipped             INTEGER NOT NULL DEFAULT 0,   -- missing input or judge budget
  errors              INTEGER NOT NULL DEFAULT 0,   -- decision failed
  judge_calls         INTEGER NOT NULL DEFAULT 0,
  judge_input_tokens  INTEGER NOT NULL DEFAULT 0,
  judge_output_tokens INTEGER NOT NULL DEFAULT 0,
  judge_cost_usd      REAL NOT NULL DEFAULT 0,
  judge_errors        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (bucket, bucket_start_ms, scorer, scorer_version, feature, prompt_version, tenant, model)
) WITHOUT ROWID;
CREATE INDEX aggregates_tenant ON aggregates(tenant);
CREATE INDEX scores_at ON scores(at_ms);

CREATE TABLE monitor_state (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per firing of a rule for one group; resolved_ms set when it ends.
CREATE TABLE alerts (
  id                INTEGER PRIMARY KEY,
  rule              TEXT NOT NULL,
  kind              TEXT NOT NULL,
  group_key         TEXT NOT NULL,   -- e.g. 'feature=checkout', '' for no grouping
  tenant            TEXT,            -- set when grouped by tenant (for erasure)
  state             TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
  fired_ms          INTEGER NOT NULL,
  resolved_ms       INTEGER,
  last_eval_ms      INTEGER NOT NULL,
  value             REAL,
  baseline          REAL,
  count             INTEGER,
  baseline_count    INTEGER,
  p_value           REAL,
  message           TEXT NOT NULL,
  fire_delivered    INTEGER NOT NULL DEFAULT 0,
  resolve_delivered INTEGER NOT NULL DEFAULT 0,
  delivery_error    TEXT
);
CREATE INDEX alerts_rule ON alerts(rule, group_key, state);
)sql",
        // LLM judges (judge helper): one row per judge call result, the
        // judge request cache, and spend per judge and UTC day.
        R"sql(
CREATE TABLE judgements (
  id              INTEGER PRIMARY KEY,
  trace           INTEGER NOT NULL REFERENCES traces(id),
  scorer_version  INTEGER NOT NULL REFERENCES scorer_versions(id),
  judge           TEXT NOT NULL,
  model           TEXT NOT NULL,
  rubric          TEXT NOT NULL,
  rubric_version  TEXT NOT NULL,
  rubric_hash     TEXT NOT NULL,
  score           REAL,
  passed          INTEGER,
  choice          TEXT,
  reasoning       TEXT,
  input_tokens    INTEGER NOT NULL DEFAULT 0,
  output_tokens   INTEGER NOT NULL DEFAULT 0,
  cost_usd        REAL NOT NULL DEFAULT 0,
  latency_ms      REAL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  cached          INTEGER NOT NULL DEFAULT 0,
  error_type      TEXT,
  error_message   TEXT,
  at_ms           INTEGER NOT NULL,
  CHECK ((score IS NULL) = (error_type IS NOT NULL))
);
CREATE INDEX judgements_trace ON judgements(trace, scorer_version);
CREATE INDEX judgements_judge ON judgements(judge, at_ms);

CREATE VIEW judgements_view AS
SELECT j.id, t.trace_id, v.scorer, v.version AS scorer_version, j.judge, j.model, j.rubric,
       j.rubric_version, j.rubric_hash, j.score, j.passed, j.choice, j.reasoning, j.input_tokens,
       j.output_tokens, j.cost_usd, j.latency_ms, j.attempts, j.cached, j.error_type,
       j.error_message, j.at_ms
FROM judgements j
JOIN traces t ON t.id = j.trace
JOIN scorer_versions v ON v.id = j.scorer_version;

-- request_hash: SHA-256 over model, parameters, rubric version and hash,
-- system message and rendered prompt (judge_stage.cpp, cache_key()).
CREATE TABLE judge_cache (
  request_hash    TEXT PRIMARY KEY,
  judge           TEXT NOT NULL,
  model           TEXT NOT NULL,
  reply           TEXT NOT NULL,
  input_tokens    INTEGER NOT NULL,
  output_tokens   INTEGER NOT NULL,
  at_ms           INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE judge_spend (
  judge           TEXT NOT NULL,
  day             TEXT NOT NULL,
  calls           INTEGER NOT NULL DEFAULT 0,
  input_tokens    INTEGER NOT NULL DEFAULT 0,
  output_tokens   INTEGER NOT NULL DEFAULT 0,
  cost_usd        REAL NOT NULL DEFAULT 0,
  cache_hits      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (judge, day)
) WITHOUT ROWID;

-- Claims (store.h, claim_judge_tasks): the judge stage that took a task
-- ("hostname:pid:nonce") and until when (epoch ms); NULL when unclaimed.
ALTER TABLE judge_queue ADD COLUMN claimed_by TEXT;
ALTER TABLE judge_queue ADD COLUMN claimed_until_ms INTEGER;
DROP VIEW judge_queue_view;
CREATE VIEW judge_queue_view AS
SELECT t.trace_id, v.scorer, v.version AS scorer_version, q.enqueued_ms, q.attempts, q.claimed_by,
       q.claimed_until_ms
FROM judge_queue q
JOIN traces t ON t.id = q.trace
JOIN scorer_versions v ON v.id = q.scorer_version;
)sql",
        // review labels (assay review): a reviewer's verdict on one trace x scorer version.
        R"sql(
CREATE TABLE labels (
  id              INTEGER PRIMARY KEY,
  trace           INTEGER NOT NULL REFERENCES traces(id),
  scorer_version  INTEGER NOT NULL REFERENCES scorer_versions(id),
  reviewer        TEXT NOT NULL,
  verdict         TEXT NOT NULL CHECK (verdict IN ('agree', 'disagree', 'score')),
  score           REAL,
  note            TEXT NOT NULL DEFAULT '',
  at_ms           INTEGER NOT NULL,
  CHECK ((verdict = 'score') = (score IS NOT NULL))
);
CREATE INDEX labels_trace ON labels(trace, scorer_version);
CREATE INDEX labels_version ON labels(scorer_version, at_ms);
-- The review list walks this in order (failures first, lowest value, newest
-- stored first among equals) and counts from it without touching the table
-- (decision is a column so that the index covers those queries). It replaces
-- scores_bottom, which serves `assay bottom` no better, so that the pipeline
-- still maintains one index on scores.
DROP INDEX IF EXISTS scores_bottom;
CREATE INDEX scores_review ON scores(scorer_version, decision, passed, value, trace DESC) WHERE decision = 0;
)sql",
        // Tokens by kind (judges on reasoning models): the part of
        // output_tokens spent reasoning and the part of input_tokens read
        // from the provider's prompt cache, per judgement and per judge-day.
        R"sql(
ALTER TABLE judgements ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE judgements ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE judge_spend ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE judge_spend ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
DROP VIEW judgements_view;
CREATE VIEW judgements_view AS
SELECT j.id, t.trace_id, v.scorer, v.version AS scorer_version, j.judge, j.model, j.rubric,
       j.rubric_version, j.rubric_hash, j.score, j.passed, j.choice, j.reasoning, j.input_tokens,
       j.output_tokens, j.cost_usd, j.latency_ms, j.attempts, j.cached, j.error_type,
       j.error_message, j.at_ms, j.reasoning_tokens, j.cached_input_tokens
FROM judgements j
JOIN traces t ON t.id = j.trace
JOIN scorer_versions v ON v.id = j.scorer_version;
)sql",
        // labels.source: where the reviewer found the trace: 'review' (the
        // bottom list or a trace page) or 'calibration' (the calibration
        // queue's random sample, stratified by the scorer's verdict).
        R"sql(
ALTER TABLE labels ADD COLUMN source TEXT NOT NULL DEFAULT 'review' CHECK (source IN ('review', 'calibration'));
)sql",
        // gate_marks (assay review --gate-report): a reviewer's real/noise mark on
        // one regressed case of one gate run (the review server's id for the
        // report); the latest mark per run x case replaces the earlier.
        R"sql(
CREATE TABLE gate_marks (
  gate_run  TEXT NOT NULL,
  case_id   TEXT NOT NULL,
  mark      TEXT NOT NULL CHECK (mark IN ('real', 'noise')),
  note      TEXT NOT NULL DEFAULT '',
  reviewer  TEXT NOT NULL,
  at_ms     INTEGER NOT NULL,
  PRIMARY KEY (gate_run, case_id)
) WITHOUT ROWID;
)sql",
        // changed_hours (issue 12): per hour of trace time (ts_ms floored to
        // the hour), the newest at_ms of a score row written for a trace of
        // that hour. The aggregator finds the hours changed since its
        // watermark here instead of through an index on scores.at_ms, which
        // cost the writer one index entry per score row; the store upserts
        // one row per hour per batch (score_row.h). Filled from the stored
        // scores, so the hours found are the same as before.
        R"sql(
CREATE TABLE changed_hours (
  hour_ms         INTEGER PRIMARY KEY,
  changed_ms      INTEGER NOT NULL
);
INSERT INTO changed_hours (hour_ms, changed_ms)
SELECT t.ts_ms - ((t.ts_ms % 3600000) + 3600000) % 3600000, max(s.at_ms)
FROM scores s JOIN traces t ON t.id = s.trace
GROUP BY 1;
DROP INDEX IF EXISTS scores_at;
)sql",
        // Daily judge budget across workers (store.h, reserve_judge_budget):
        // the estimated cost of calls in flight, per claimant, until settled
        // by the outcome that records the actual spend or until expires_ms.
        R"sql(
CREATE TABLE judge_reservations (
  id          INTEGER PRIMARY KEY,
  judge       TEXT NOT NULL,
  day         TEXT NOT NULL,
  claimant    TEXT NOT NULL,
  amount_usd  REAL NOT NULL,
  expires_ms  INTEGER NOT NULL
);
CREATE INDEX judge_reservations_day ON judge_reservations(judge, day);
CREATE INDEX judge_reservations_claimant ON judge_reservations(claimant);
)sql",
        // Alert delivery claims: the alerts row is the outbox of its notices;
        // a checker delivers them only while it holds the row's claim (its id,
        // as judge claimants, and a lease in wall-clock ms). alert_store.h.
        R"sql(
ALTER TABLE alerts ADD COLUMN delivery_claimed_by TEXT;
ALTER TABLE alerts ADD COLUMN delivery_claimed_until_ms INTEGER;
)sql",
        // OTLP shared completion (store/span_store.h, claim): the worker that
        // builds a trace from the pending spans of every worker holds its key
        // here until its lease runs out or the trace's spans are erased.
        R"sql(
CREATE TABLE otlp_claims (
  trace_key   TEXT PRIMARY KEY,
  claimant    TEXT NOT NULL,
  until_ms    INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
        // otlp_spans without its received_ms index: every span paid an insert
        // and a delete in it, for the sweep (SpanStore::stale_traces), which
        // now scans the table once per max(idle, 1 s, max wait / 20) instead
        // (README "OTLP receiver"). Restoring sorts the rows instead.
        R"sql(
DROP INDEX otlp_spans_received;
)sql",
        // 14: a pending row holds the spans of one trace that came in one
        // request (one row per trace and request, not per span: a third of
        // the inserts and deletes for three-span traces; README "OTLP
        // receiver"); span_count says how many. Rows of older versions hold
        // one span each.
        R"sql(
ALTER TABLE otlp_spans ADD COLUMN span_count INTEGER NOT NULL DEFAULT 1;
)sql",
    };
    return k_migrations;
}

}  // namespace assay
