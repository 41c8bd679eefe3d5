#include "store/schema.h"

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
    };
    return k_migrations;
}

}  // namespace assay
