#pragma once
// Pipeline: parse -> score -> store, in batches. One producer thread calls
// submit(); a pool of scoring threads processes whole chunks; a writer thread
// commits their WriteBatches to the Store in submission order, one
// transaction per chunk. Backpressure: submit() blocks while too many chunks
// are in flight. on_commit (optional) runs on the writer thread after each
// chunk is durably stored — the worker acknowledges producers there.
//
// The Pipeline does not own the Store or the setup's scorers; both must
// outlive it.
// A commit that finds the store busy (`unavailable`: another connection held
// the write lock past store.busy_timeout_ms) is retried a few times with
// back-off. After any other store error, or a busy store that stays busy,
// the pipeline stops accepting work; finish() returns that error (the failed
// chunk is not stored, nothing is acknowledged).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeline/evaluate.h"
#include "pipeline/pipeline_options.h"
#include "pipeline/run_summary.h"
#include "store/store.h"

namespace assay {

// Where a submitted record came from, handed back when it is committed: the
// submitter's number for its source (the worker numbers its trace sources)
// and that source's own tag (e.g. which message to acknowledge).
struct RecordOrigin {
    uint32_t source = 0;
    uint64_t tag = 0;
};

class Pipeline {
public:
    // What a committed chunk held, record by record in submission order.
    struct CommitReport {
        const std::vector<RecordOrigin>& origins;  // as given to submit()
        const std::vector<std::string>&
            errors;                 // empty: stored as a trace; else why it was dead-lettered
        const RunSummary& summary;  // the chunk's totals
        // The chunk's committed traces that have judge tasks, as built on
        // their way in, for a judge stage in the same process
        // (judge/committed_traces.h): they need not be parsed again.
        std::vector<std::shared_ptr<const Trace>>& queued_for_judge;
    };
    // Called on the writer thread after a chunk is durably committed.
    using CommitCallback = std::function<void(const CommitReport& report)>;

    Pipeline(PipelineSetup setup, Store& store, CommitCallback on_commit = nullptr);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Queues one record (raw text, or a trace already built on its way in:
    // RawRecord::trace). `origin` is returned to on_commit. Returns the
    // store's error if the writer has failed. Single producer thread only.
    Status submit(RawRecord record, RecordOrigin origin = {});
    // Sends the partly filled chunk on its way (blocking only for
    // backpressure). Producer thread only.
    void flush();
    // Flushes when the partly filled chunk's first record was submitted at
    // least `max_age_ms` ago (for time-bounded batches). Producer thread only.
    void flush_if_older(int64_t max_age_ms);
    // Flushes, waits for every chunk to be committed and stops the threads.
    // Returns the first store error, if any. Idempotent.
    Status finish();

    // Totals of what has been committed so far (thread-safe snapshot).
    RunSummary summary() const;

    // Bounds (seconds) of the commit-latency histogram buckets.
    static const std::vector<double>& commit_buckets();
    // A thread-safe snapshot for /metrics.
    struct Metrics {
        RunSummary committed;
        size_t chunks_in_flight = 0;
        std::vector<uint64_t> commit_counts;  // per bucket (not cumulative), then +Inf
        double commit_seconds_sum = 0;
        uint64_t commit_failures = 0;
        bool store_blocked = false;
    };
    Metrics metrics() const;
    // True while a commit waits for another connection's write lock
    // (PipelineOptions::wait_for_store_lock). Any thread.
    bool store_blocked() const { return m_store_blocked.load(); }

private:
    struct Chunk {
        std::vector<RawRecord> records;
        std::vector<RecordOrigin> origins;
        std::vector<std::string> errors;
        WriteBatch batch;
        RunSummary summary;
        std::promise<void> done;
    };

    void scoring_loop();
    void writer_loop();
    // Frees committed chunks on the calling thread, off the writer's path.
    void release_committed();

    PipelineSetup m_setup;
    Store& m_store;
    CommitCallback m_on_commit;
    size_t m_max_in_flight;

    std::unique_ptr<Chunk> m_current;
    std::chrono::steady_clock::time_point m_current_started;

    mutable std::mutex m_mu;
    std::condition_variable m_cv;
    std::deque<Chunk*> m_to_score;  // waiting for a scoring thread
    std::deque<std::pair<std::unique_ptr<Chunk>, std::future<void>>> m_to_write;  // in order
    std::vector<std::unique_ptr<Chunk>> m_committed;  // freed by a scoring thread
    bool m_stopping = false;
    std::atomic<bool> m_store_blocked{false};
    Status m_error;
    RunSummary m_summary;
    std::vector<uint64_t> m_commit_counts;
    double m_commit_seconds_sum = 0;
    uint64_t m_commit_failures = 0;

    struct Stats {  // seconds, summed over threads; logged at debug level by finish()
        double scoring_busy = 0, scoring_wait = 0, writer_busy = 0, writer_wait = 0;
    } m_stats;

    std::vector<std::thread> m_scorers;
    std::thread m_writer;
    bool m_finished = false;
};

}  // namespace assay
