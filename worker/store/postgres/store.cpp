// PostgresStore: opening (connection, migrations), scorer registration and
// the batched write path of traces, scores, dead letters, counters and judge
// tasks (store.h). Reads are in store_read.cpp. Traces and scores, the bulk of
// every batch, are streamed with COPY into session-local staging tables and
// upserted from there with one INSERT ... SELECT each (no per-value parameter
// or statement parsing); the scores of the batch's new traces straight into
// scores. The small tables use multi-row INSERTs. Rows of one batch are
// written in key order so that two workers writing overlapping batches take
// row locks in the same order (no deadlock). Over ~400 lines for one job: the
// write transaction of a batch, table by table.
#include "store/postgres/store.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

#include "core/clock.h"
#include "store/judge_claimant.h"
#include "store/postgres/array_param.h"
#include "store/postgres/conn.h"
#include "store/postgres/copy_rows.h"
#include "store/postgres/multi_insert.h"
#include "store/postgres/open.h"
#include "store/postgres/schema.h"

namespace assay {

namespace {

// The columns the write path stages (COPY) and upserts, in this order.
const char* k_trace_columns =
    "trace_id, ts_ms, received_ms, feature, tenant, user_id, session_id, prompt_name, "
    "prompt_version, model, environment, expected_format, finish_reason, error_type, latency_ms, "
    "ttft_ms, input_tokens, output_tokens, cached_tokens, cost_usd, raw";
const char* k_score_columns =
    "trace, scorer_version, decision, value, passed, label, explanation, reason, at_ms";

}  // namespace

using pg::PgConn;
using pg::PgParams;
using pg::PgResult;

PostgresStore::PostgresStore(std::unique_ptr<PgConn> conn, const StoreOptions& options)
    : m_conn(std::move(conn)),
      m_claimant(options.judge_claimant.empty() ? make_judge_claimant() : options.judge_claimant),
      m_judge_lease_ms(options.judge_lease_ms) {}

PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const StoreOptions& options) {
    auto conn = pg::connect_store(options.sqlite_path);
    if (!conn.ok()) {
        return conn.status();
    }
    return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(conn).value(), options));
}

Result<int> PostgresStore::schema_version() { return pg::schema_version(*m_conn); }

Status PostgresStore::register_scorers(const std::vector<ScorerVersionInfo>& versions) {
    if (versions.empty()) {
        return {};
    }
    std::vector<size_t> order(versions.size());
    for (size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::tie(versions[a].scorer, versions[a].version) <
               std::tie(versions[b].scorer, versions[b].version);
    });
    order.erase(std::unique(order.begin(), order.end(),
                            [&](size_t a, size_t b) {
                                return versions[a].scorer == versions[b].scorer &&
                                       versions[a].version == versions[b].version;
                            }),
                order.end());
    const int64_t now = now_ms();
    std::vector<VersionId> ids;
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    ASSAY_RETURN_IF_ERROR(pg::multi_insert(
        *m_conn,
        "INSERT INTO scorer_versions (scorer, version, type, config_json, first_seen_ms, "
        "last_seen_ms)",
        "ON CONFLICT (scorer, version) DO UPDATE SET last_seen_ms = excluded.last_seen_ms "
        "RETURNING id, scorer, version",
        6, order.size(),
        [&](size_t i, PgParams& p) {
            const auto& v = versions[order[i]];
            return "(" + p.text(v.scorer) + ", " + p.text(v.version) + ", " + p.text(v.type) +
                   ", " + p.text(v.config_json) + ", " + p.integer(now) + ", " + p.integer(now) +
                   ")";
        },
        "registering scorers",
        [&](const PgResult& r) {
            for (int i = 0; i < r.rows(); ++i) {
                ids.push_back({r.text(i, 1), r.text(i, 2), r.integer(i, 0)});
            }
            return Status();
        }));
    ASSAY_RETURN_IF_ERROR(txn.commit());
    for (auto& id : ids) {
        m_version_ids.add(std::move(id.scorer), std::move(id.version), id.id);
    }
    return {};
}

Result<int64_t> PostgresStore::version_id(const std::string& scorer,
                                          const std::string& version) const {
    return m_version_ids.find(scorer, version);
}

Result<int64_t> PostgresStore::trace_row_id(const std::string& trace_id, int32_t batch_index,
                                            const std::vector<int64_t>& ids,
                                            const TraceIds& locked) {
    if (batch_index >= 0) {
        return batch_trace_id(batch_index, ids);
    }
    auto it = locked.find(trace_id);
    if (it == locked.end()) {
        return Status::not_found("no trace '" + trace_id + "' in the store");
    }
    return it->second;
}

Result<PostgresStore::TraceIds> PostgresStore::lock_traces(std::vector<std::string> trace_ids) {
    TraceIds out;
    if (trace_ids.empty()) {
        return out;
    }
    std::sort(trace_ids.begin(), trace_ids.end());
    trace_ids.erase(std::unique(trace_ids.begin(), trace_ids.end()), trace_ids.end());
    PgParams p;
    const std::string sql = "SELECT id, trace_id FROM traces WHERE trace_id = ANY(" +
                            pg::text_array(p, trace_ids) + ") ORDER BY id FOR KEY SHARE";
    auto r = m_conn->exec(sql, p, "locking the traces of the scores");
    if (!r.ok()) {
        return r.status();
    }
    for (int i = 0; i < r->rows(); ++i) {
        out.emplace(r->text(i, 1), r->integer(i, 0));
    }
    return out;
}

Result<std::vector<int64_t>> PostgresStore::write_traces(const std::vector<Trace>& traces,
                                                         std::unordered_set<int64_t>& fresh) {
    // A trace id twice in one batch: the last one wins (as two upserts would).
    std::map<std::string_view, size_t> last;
    for (size_t i = 0; i < traces.size(); ++i) {
        last[traces[i].trace_id] = i;
    }
    std::vector<size_t> rows;
    rows.reserve(last.size());
    for (const auto& [id, i] : last) {
        rows.push_back(i);  // sorted by trace_id
    }
    pg::CopyRows copy;
    for (size_t i : rows) {
        const Trace& t = traces[i];
        const Metadata& m = t.metadata;
        copy.text(t.trace_id);
        copy.integer(t.timestamp_ms);
        copy.integer(t.received_ms);
        for (std::string_view v :
             {std::string_view(m.feature), std::string_view(m.tenant), std::string_view(m.user_id),
              std::string_view(m.session_id), std::string_view(m.prompt_name),
              std::string_view(m.prompt_version), std::string_view(m.model),
              std::string_view(m.environment), std::string_view(m.expected_format),
              std::string_view(t.finish_reason),
              t.error ? std::string_view(t.error->type) : std::string_view()}) {
            copy.text_or_null(v);
        }
        copy.opt(t.latency_ms);
        copy.opt(t.ttft_ms);
        copy.opt(t.usage.input_tokens);
        copy.opt(t.usage.output_tokens);
        copy.opt(t.usage.cached_tokens);
        copy.opt(t.usage.cost_usd);
        copy.text(t.raw);
        copy.end_row();
    }
    ASSAY_RETURN_IF_ERROR(
        m_conn->copy_in(std::string("COPY assay_traces_in (") + k_trace_columns + ") FROM STDIN",
                        copy.data(), "storing traces"));
    std::unordered_map<std::string, int64_t> id_of;
    auto upserted = m_conn->exec(
        std::string("INSERT INTO traces (") + k_trace_columns + ") SELECT " + k_trace_columns +
            " FROM assay_traces_in ORDER BY trace_id "
            "ON CONFLICT (trace_id) DO UPDATE SET ts_ms = excluded.ts_ms, "
            "feature = excluded.feature, "
            "tenant = excluded.tenant, user_id = excluded.user_id, session_id = "
            "excluded.session_id, "
            "prompt_name = excluded.prompt_name, prompt_version = excluded.prompt_version, "
            "model = excluded.model, environment = excluded.environment, "
            "expected_format = excluded.expected_format, finish_reason = excluded.finish_reason, "
            "error_type = excluded.error_type, latency_ms = excluded.latency_ms, "
            "ttft_ms = excluded.ttft_ms, input_tokens = excluded.input_tokens, "
            "output_tokens = excluded.output_tokens, cached_tokens = excluded.cached_tokens, "
            "cost_usd = excluded.cost_usd, raw = excluded.raw "
            // xmax is 0 on a row this statement inserted (not an updated one).
            "RETURNING id, trace_id, xmax = 0",
        "storing traces");
    if (!upserted.ok()) {
        return upserted.status();
    }
    for (int i = 0; i < upserted->rows(); ++i) {
        id_of[upserted->text(i, 1)] = upserted->integer(i, 0);
        if (upserted->text(i, 2) == "t") {
            fresh.insert(upserted->integer(i, 0));
        }
    }
    std::vector<int64_t> ids;
    ids.reserve(traces.size());
    for (const Trace& t : traces) {
        ids.push_back(id_of[t.trace_id]);
    }
    return ids;
}

Status PostgresStore::write_scores(const WriteBatch& b, const std::vector<int64_t>& ids,
                                   const TraceIds& locked,
                                   const std::unordered_set<int64_t>& fresh) {
    struct Row {
        int64_t trace, version;
        const ScoreRow* r;
    };
    std::map<std::pair<int64_t, int64_t>, const ScoreRow*> rows;  // the last row per key wins
    for (const ScoreRow& r : b.scores) {
        auto trace = trace_row_id(r.trace_id, r.batch_index, ids, locked);
        if (!trace.ok()) {
            return trace.status();
        }
        auto version = version_id(r.scorer, r.scorer_version);
        if (!version.ok()) {
            return version.status();
        }
        rows[{*trace, *version}] = &r;
    }
    std::vector<Row> list;
    list.reserve(rows.size());
    std::map<int64_t, int64_t> newest;  // trace -> newest at_ms of its rows (changed_hours)
    for (const auto& [key, r] : rows) {
        list.push_back({key.first, key.second, r});
        auto [it, first] = newest.emplace(key.first, r->at_ms);
        if (!first) {
            it->second = std::max(it->second, r->at_ms);
        }
    }
    ASSAY_RETURN_IF_ERROR(mark_changed_hours(newest));
    pg::CopyRows inserts;  // rows of fresh traces, straight into scores
    pg::CopyRows upserts;  // the others, through the staging table
    for (const Row& row : list) {
        const ScoreRow& r = *row.r;
        const Score* sc = r.score ? &*r.score : nullptr;
        pg::CopyRows& copy = fresh.count(row.trace) != 0 ? inserts : upserts;
        copy.integer(row.trace);
        copy.integer(row.version);
        copy.integer(static_cast<int>(r.decision));
        if (sc != nullptr) {
            copy.real(sc->value);
        } else {
            copy.null();
        }
        if (sc != nullptr && sc->passed) {
            copy.integer(*sc->passed ? 1 : 0);
        } else {
            copy.null();
        }
        copy.text_or_null(sc != nullptr ? std::string_view(sc->label) : std::string_view());
        copy.text_or_null(sc != nullptr ? std::string_view(sc->explanation) : std::string_view());
        copy.text_or_null(r.reason);
        copy.integer(r.at_ms);
        copy.end_row();
    }
    if (!inserts.data().empty()) {
        ASSAY_RETURN_IF_ERROR(
            m_conn->copy_in(std::string("COPY scores (") + k_score_columns + ") FROM STDIN",
                            inserts.data(), "storing scores"));
    }
    if (upserts.data().empty()) {
        return {};
    }
    ASSAY_RETURN_IF_ERROR(
        m_conn->copy_in(std::string("COPY assay_scores_in (") + k_score_columns + ") FROM STDIN",
                        upserts.data(), "storing scores"));
    return m_conn
        ->exec(std::string("INSERT INTO scores (") + k_score_columns + ") SELECT " +
                   k_score_columns +
                   " FROM assay_scores_in ORDER BY trace, scorer_version "
                   "ON CONFLICT (trace, scorer_version) DO UPDATE SET decision = "
                   "excluded.decision, value = excluded.value, passed = excluded.passed, "
                   "label = excluded.label, explanation = excluded.explanation, "
                   "reason = excluded.reason, at_ms = excluded.at_ms",
               "storing scores")
        .status();
}

// changed_hours (schema.cpp): per hour of trace time the newest at_ms of its
// score rows, read by the aggregator instead of an index on scores.at_ms.
Status PostgresStore::mark_changed_hours(const std::map<int64_t, int64_t>& newest) {
    std::vector<std::pair<int64_t, int64_t>> list(newest.begin(), newest.end());
    return pg::multi_insert(
        *m_conn,
        "INSERT INTO changed_hours (hour_ms, changed_ms) "
        "SELECT t.ts_ms - mod(mod(t.ts_ms, 3600000) + 3600000, 3600000), max(v.at_ms) "
        "FROM traces t JOIN (",
        ") AS v (id, at_ms) ON t.id = v.id GROUP BY 1 ORDER BY 1 "
        // in hour order, so that concurrent writers lock the rows in one order
        "ON CONFLICT (hour_ms) DO UPDATE SET "
        "changed_ms = greatest(changed_hours.changed_ms, excluded.changed_ms)",
        2, list.size(),
        [&](size_t i, PgParams& p) {
            return "(" + p.integer(list[i].first) + "::bigint, " + p.integer(list[i].second) +
                   "::bigint)";
        },
        "recording changed hours");
}

Status PostgresStore::write_dead_letters(const std::vector<DeadLetter>& dead) {
    return pg::multi_insert(
        *m_conn, "INSERT INTO dead_letters (received_ms, source, line, error, raw, raw_bytes)", "",
        6, dead.size(),
        [&](size_t i, PgParams& p) {
            const DeadLetter& d = dead[i];
            return "(" + p.integer(d.received_ms) + ", " + p.text(d.source) + ", " +
                   (d.line > 0 ? p.integer(d.line) : p.null()) + ", " + p.text(d.error) + ", " +
                   p.bytes(d.raw) + ", " + p.integer(static_cast<int64_t>(d.raw_bytes)) + ")";
        },
        "storing dead letters");
}

Status PostgresStore::write_counters(const std::vector<CounterDelta>& counters) {
    std::map<std::pair<std::string, std::string>, CounterDelta> sum;  // one row per key
    for (const CounterDelta& c : counters) {
        CounterDelta& s = sum[{c.scorer, c.day}];
        s.scorer = c.scorer;
        s.day = c.day;
        s.seen += c.seen;
        s.in_scope += c.in_scope;
        s.sampled += c.sampled;
        s.forced += c.forced;
    }
    std::vector<const CounterDelta*> list;
    for (const auto& [key, c] : sum) {
        list.push_back(&c);
    }
    return pg::multi_insert(
        *m_conn, "INSERT INTO sampler_counters AS c (scorer, day, seen, in_scope, sampled, forced)",
        "ON CONFLICT (scorer, day) DO UPDATE SET seen = c.seen + excluded.seen, "
        "in_scope = c.in_scope + excluded.in_scope, sampled = c.sampled + excluded.sampled, "
        "forced = c.forced + excluded.forced",
        6, list.size(),
        [&](size_t i, PgParams& p) {
            const CounterDelta& c = *list[i];
            return "(" + p.text(c.scorer) + ", " + p.text(c.day) + ", " + p.integer(c.seen) + ", " +
                   p.integer(c.in_scope) + ", " + p.integer(c.sampled) + ", " +
                   p.integer(c.forced) + ")";
        },
        "updating sampler counters");
}

Status PostgresStore::write_judge_tasks(const WriteBatch& b, const std::vector<int64_t>& ids,
                                        const TraceIds& locked) {
    std::map<std::pair<int64_t, int64_t>, int64_t> tasks;  // (trace, version) -> enqueued_ms
    for (const JudgeTask& j : b.judge_tasks) {
        auto trace = trace_row_id(j.trace_id, j.batch_index, ids, locked);
        if (!trace.ok()) {
            return trace.status();
        }
        auto version = version_id(j.scorer, j.scorer_version);
        if (!version.ok()) {
            return version.status();
        }
        tasks.emplace(std::make_pair(*trace, *version), j.enqueued_ms);  // the first one stays
    }
    std::vector<std::pair<std::pair<int64_t, int64_t>, int64_t>> list(tasks.begin(), tasks.end());
    return pg::multi_insert(
        *m_conn, "INSERT INTO judge_queue (trace, scorer_version, enqueued_ms)",
        "ON CONFLICT (trace, scorer_version) DO NOTHING", 3, list.size(),
        [&](size_t i, PgParams& p) {
            return "(" + p.integer(list[i].first.first) + ", " + p.integer(list[i].first.second) +
                   ", " + p.integer(list[i].second) + ")";
        },
        "enqueueing judge work");
}

Status PostgresStore::write_locked(const WriteBatch& b) {
    std::unordered_set<int64_t> fresh;
    auto ids = write_traces(b.traces, fresh);
    if (!ids.ok()) {
        return ids.status();
    }
    // Rows that name a stored trace (backfill): locked before anything names it.
    std::vector<std::string> named;
    for (const ScoreRow& r : b.scores) {
        if (r.batch_index < 0) {
            named.push_back(r.trace_id);
        }
    }
    for (const JudgeTask& j : b.judge_tasks) {
        if (j.batch_index < 0) {
            named.push_back(j.trace_id);
        }
    }
    auto locked = lock_traces(std::move(named));
    if (!locked.ok()) {
        return locked.status();
    }
    ASSAY_RETURN_IF_ERROR(write_scores(b, *ids, *locked, fresh));
    ASSAY_RETURN_IF_ERROR(write_dead_letters(b.dead_letters));
    ASSAY_RETURN_IF_ERROR(write_counters(b.counters));
    return write_judge_tasks(b, *ids, *locked);
}

Status PostgresStore::ensure_staging() {
    // After a reconnect the session's tables are gone with the old session.
    ASSAY_RETURN_IF_ERROR(m_conn->ensure_connected());
    if (m_staging && m_staging_generation == m_conn->generation()) {
        return {};
    }
    // Session-local, emptied at every commit; created outside any write
    // transaction so that a rolled-back batch does not take them along.
    auto r = m_conn->exec(
        std::string("CREATE TEMP TABLE IF NOT EXISTS assay_traces_in ON COMMIT DELETE ROWS AS "
                    "SELECT ") +
            k_trace_columns +
            " FROM traces WITH NO DATA; "
            "CREATE TEMP TABLE IF NOT EXISTS assay_scores_in ON COMMIT DELETE ROWS AS SELECT " +
            k_score_columns + " FROM scores WITH NO DATA",
        "creating the session's staging tables");
    m_staging = r.ok();
    m_staging_generation = m_conn->generation();
    return r.status();
}

Status PostgresStore::write(const WriteBatch& batch) {
    if (batch.empty()) {
        return {};
    }
    ASSAY_RETURN_IF_ERROR(ensure_staging());
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    ASSAY_RETURN_IF_ERROR(write_locked(batch));
    return txn.commit();
}

}  // namespace assay
