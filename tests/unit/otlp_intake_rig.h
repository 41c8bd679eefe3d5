#pragma once
// Test rig for the OTLP intake: a worker in miniature (store, span store,
// pipeline and intake on one SQLite file), a span store that can be held or
// made to fail, and the intake options the tests start from.

#include <doctest/doctest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/component_options.h"
#include "config/config.h"
#include "ingest/otlp/intake.h"
#include "otlp_sample.h"
#include "pipeline/pipeline.h"
#include "store/span_store.h"
#include "store/sqlite/store.h"
#include "temp_dir.h"

namespace assay::testing {

inline std::string sample(const std::string& name) { return assay::testing::otlp_sample(name); }

inline const char* k_trace = "4bf92f3577b34da6a3ce929d0e0e4736";

// A worker in miniature: store, span store, pipeline and intake on one file.
struct Rig {
    TempDir dir;
    std::string db = dir.file("o.db");
    Config cfg;
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<SpanStore> spans;
    OtlpIntake* intake_ptr = nullptr;
    std::unique_ptr<Pipeline> pipeline;

    Rig() {
        auto c = load_config_text(
            "pipeline: {batch_size: 10, threads: 1}\nscorers:\n  - {name: len, type: test_len, "
            "max: 1000}\n",
            "t.yaml", dir.path(), {}, {});
        REQUIRE_MESSAGE(c.ok(), c.status().message());
        cfg = *c;
        cfg.store.sqlite_path = db;
        auto s = SqliteStore::open(cfg.store);
        REQUIRE(s.ok());
        store = std::move(*s);
        REQUIRE(store->register_scorers(version_infos(cfg.scorers)).ok());
        auto sp = open_span_store(db, 1000);
        REQUIRE(sp.ok());
        spans = std::move(*sp);
        pipeline = std::make_unique<Pipeline>(pipeline_setup(cfg), *store,
                                              [this](const Pipeline::CommitReport& r) {
                                                  if (intake_ptr != nullptr) {
                                                      std::vector<uint64_t> tags;
                                                      for (const RecordOrigin& o : r.origins) {
                                                          tags.push_back(o.tag);
                                                      }
                                                      intake_ptr->committed(tags, r.errors);
                                                  }
                                              });
    }
    // The intake's records go straight into the pipeline.
    struct Sink final : RecordSink {
        Pipeline* pipeline = nullptr;
        Status submit(RawRecord record, uint64_t tag) override {
            return pipeline->submit(std::move(record), RecordOrigin{0, tag});
        }
    };
    Sink sink_storage;
    RecordSink& sink() {
        sink_storage.pipeline = pipeline.get();
        return sink_storage;
    }
    // Commits what was submitted and lets the intake see the commits.
    void commit(OtlpIntake& intake) {
        REQUIRE(pipeline->finish().ok());
        intake.erase_committed();
    }
};

// A SpanStore that forwards every call to another; tests override the calls
// they hold up, fail or record.
struct ForwardingSpanStore : SpanStore {
    explicit ForwardingSpanStore(SpanStore& wrapped) : inner(wrapped) {}
    Status put(const std::vector<PendingSpanRow>& rows) override { return inner.put(rows); }
    Result<std::vector<PendingSpanRow>> load() override { return inner.load(); }
    Status erase(const std::vector<std::string>& keys) override { return inner.erase(keys); }
    Result<std::vector<SpanClaim>> claim(const std::vector<SpanClaimAsk>& asks,
                                         const std::string& claimant, int64_t now_ms,
                                         int64_t idle_ms, int64_t lease_ms) override {
        return inner.claim(asks, claimant, now_ms, idle_ms, lease_ms);
    }
    Result<std::vector<std::string>> stale_traces(int64_t first_before_ms, int64_t now_ms,
                                                  size_t limit) override {
        return inner.stale_traces(first_before_ms, now_ms, limit);
    }
    Result<int64_t> count() override { return inner.count(); }
    Result<bool> trace_stored(const std::string& id) override { return inner.trace_stored(id); }
    Status dead_letter(int64_t received_ms, const std::string& source, const std::string& error,
                       const std::string& raw, int64_t raw_bytes) override {
        return inner.dead_letter(received_ms, source, error, raw, raw_bytes);
    }

    SpanStore& inner;
};

// A SpanStore whose put() waits until release(): the file busy under another
// writer, as in e2e.otlp_in_progress, but deterministic.
struct GatedSpanStore final : ForwardingSpanStore {
    using ForwardingSpanStore::ForwardingSpanStore;
    Status put(const std::vector<PendingSpanRow>& rows) override {
        {
            std::unique_lock<std::mutex> lock(mu);
            entered = true;
            cv.notify_all();
            cv.wait(lock, [&] { return open; });
        }
        return inner.put(rows);
    }
    Status erase(const std::vector<std::string>& keys) override {
        if (erase_failures > 0) {
            --erase_failures;
            return Status::io_error("erasing pending spans: disk I/O error (test)");
        }
        return inner.erase(keys);
    }
    void wait_entered() {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return entered; });
    }
    void release() {
        std::lock_guard<std::mutex> lock(mu);
        open = true;
        cv.notify_all();
    }

    std::mutex mu;
    std::condition_variable cv;
    bool entered = false;
    bool open = false;
    int erase_failures = 0;  // erase() fails this many times first
};

inline OtlpIntakeOptions opts() {
    OtlpIntakeOptions o;
    o.assembler.idle_ms = 1000;
    o.assembler.max_trace_age_ms = 60000;
    return o;
}

}  // namespace assay::testing
