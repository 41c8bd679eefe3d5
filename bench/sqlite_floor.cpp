// The storage floor for `assay score`: plain SQLite inserting the same trace
// rows into the same `traces` table (schema from Assay's own migrations) in
// one transaction with one prepared statement. Column values are extracted
// before the clock starts, so only the inserts are timed.
//
// With --scores K it also inserts K rows into `scores` per trace (the
// decision rows Assay writes), as a floor for everything `assay score` stores.
//
// Usage: sqlite_floor [--scores K] TRACES.jsonl DB  -> "traces seconds traces_per_s"
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/trace_json.h"
#include "ingest/jsonl_reader.h"
#include "store/sqlite/store.h"

using namespace assay;

int main(int argc, char** argv) {
    int scores_per_trace = 0;
    if (argc == 5 && std::string(argv[1]) == "--scores") {
        scores_per_trace = std::stoi(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: sqlite_floor [--scores K] TRACES.jsonl DB\n");
        return 2;
    }
    {
        auto created = SqliteStore::open({argv[2]});  // same schema, same pragmas
        if (!created.ok()) {
            std::fprintf(stderr, "%s\n", created.status().message().c_str());
            return 2;
        }
        std::vector<ScorerVersionInfo> versions;
        for (int k = 0; k < scores_per_trace; ++k) {
            versions.push_back({"s" + std::to_string(k), "1.0", "floor", "{}"});
        }
        if (!versions.empty() && !(*created)->register_scorers(versions).ok()) {
            return 2;
        }
    }
    auto reader = JsonlReader::open(argv[1], 4 << 20);
    if (!reader.ok()) {
        std::fprintf(stderr, "%s\n", reader.status().message().c_str());
        return 2;
    }
    std::vector<Trace> rows;
    JsonlRecord rec;
    while ((*reader)->next(rec)) {
        auto t = parse_trace(rec.text, {}, 0);
        if (t.ok()) {
            rows.push_back(std::move(t.value()));
        }
    }
    sqlite3* db = nullptr;
    sqlite3_open(argv[2], &db);
    sqlite3_exec(
        db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536",
        nullptr, nullptr, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(
        db,
        "INSERT INTO traces (trace_id, ts_ms, received_ms, feature, tenant, user_id, "
        "session_id, prompt_name, prompt_version, model, environment, expected_format, "
        "finish_reason, error_type, latency_ms, ttft_ms, input_tokens, output_tokens, "
        "cached_tokens, cost_usd, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        -1, &st, nullptr);
    sqlite3_stmt* sc = nullptr;
    sqlite3_prepare_v2(
        db,
        "INSERT INTO scores (trace, scorer_version, decision, value, passed, label, "
        "explanation, reason, at_ms) VALUES (last_insert_rowid(), ?1, 0, ?2, 1, 'ok', "
        "'142 words (bounds: max 400)', NULL, ?3)",
        -1, &sc, nullptr);
    auto text = [&](int i, const std::string& v) {
        if (v.empty()) {
            sqlite3_bind_null(st, i);
        } else {
            sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        }
    };
    auto t0 = std::chrono::steady_clock::now();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (const Trace& t : rows) {
        sqlite3_reset(st);
        text(1, t.trace_id);
        sqlite3_bind_int64(st, 2, t.timestamp_ms);
        sqlite3_bind_int64(st, 3, t.received_ms);
        text(4, t.metadata.feature);
        text(5, t.metadata.tenant);
        text(6, t.metadata.user_id);
        text(7, t.metadata.session_id);
        text(8, t.metadata.prompt_name);
        text(9, t.metadata.prompt_version);
        text(10, t.metadata.model);
        text(11, t.metadata.environment);
        text(12, t.metadata.expected_format);
        text(13, t.finish_reason);
        text(14, t.error ? t.error->type : std::string());
        t.latency_ms ? sqlite3_bind_double(st, 15, *t.latency_ms) : sqlite3_bind_null(st, 15);
        t.ttft_ms ? sqlite3_bind_double(st, 16, *t.ttft_ms) : sqlite3_bind_null(st, 16);
        t.usage.input_tokens ? sqlite3_bind_int64(st, 17, *t.usage.input_tokens)
                             : sqlite3_bind_null(st, 17);
        t.usage.output_tokens ? sqlite3_bind_int64(st, 18, *t.usage.output_tokens)
                              : sqlite3_bind_null(st, 18);
        t.usage.cached_tokens ? sqlite3_bind_int64(st, 19, *t.usage.cached_tokens)
                              : sqlite3_bind_null(st, 19);
        t.usage.cost_usd ? sqlite3_bind_double(st, 20, *t.usage.cost_usd)
                         : sqlite3_bind_null(st, 20);
        text(21, t.raw);
        if (sqlite3_step(st) != SQLITE_DONE) {
            std::fprintf(stderr, "insert failed: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        for (int k = 0; k < scores_per_trace; ++k) {
            sqlite3_reset(sc);
            sqlite3_bind_int(sc, 1, k + 1);
            sqlite3_bind_double(sc, 2, k * 0.5);
            sqlite3_bind_int64(sc, 3, t.timestamp_ms);
            if (sqlite3_step(sc) != SQLITE_DONE) {
                std::fprintf(stderr, "score insert failed: %s\n", sqlite3_errmsg(db));
                return 1;
            }
        }
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sqlite3_finalize(st);
    sqlite3_finalize(sc);
    sqlite3_close(db);
    std::printf("%zu %.6f %.1f\n", rows.size(), secs, static_cast<double>(rows.size()) / secs);
    return 0;
}
