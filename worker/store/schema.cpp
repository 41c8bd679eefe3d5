#include "store/schema.h"

namespace assay {

const std::vector<std::string_view>& sqlite_migrations() {
    static const std::vector<std::string_view> k_migrations = {
        // 1: the foundation schema.
        R"sql(
CREATE TABLE traces (
  trace_id        TEXT PRIMARY KEY NOT NULL,
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

CREATE TABLE scores (
  trace_id        TEXT NOT NULL,
  scorer          TEXT NOT NULL,
  scorer_version  TEXT NOT NULL,
  decision        TEXT NOT NULL CHECK (decision IN ('scored', 'filtered_out', 'sampled_out',
                    'skipped_missing_input', 'pending', 'skipped_budget', 'failed')),
  value           REAL,
  passed          INTEGER,
  label           TEXT,
  explanation     TEXT,
  reason          TEXT,
  at_ms           INTEGER NOT NULL,
  CHECK ((decision = 'scored') = (value IS NOT NULL)),
  PRIMARY KEY (trace_id, scorer, scorer_version)
) WITHOUT ROWID;
CREATE INDEX scores_bottom ON scores(scorer, scorer_version, decision, passed, value);

CREATE TABLE scorer_versions (
  scorer          TEXT NOT NULL,
  version         TEXT NOT NULL,
  type            TEXT NOT NULL,
  config_json     TEXT NOT NULL,
  first_seen_ms   INTEGER NOT NULL,
  last_seen_ms    INTEGER NOT NULL,
  PRIMARY KEY (scorer, version)
) WITHOUT ROWID;

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
  trace_id        TEXT NOT NULL,
  scorer          TEXT NOT NULL,
  scorer_version  TEXT NOT NULL,
  enqueued_ms     INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (trace_id, scorer, scorer_version)
) WITHOUT ROWID;
CREATE INDEX judge_queue_enqueued ON judge_queue(enqueued_ms);
)sql",
    };
    return k_migrations;
}

}  // namespace assay
