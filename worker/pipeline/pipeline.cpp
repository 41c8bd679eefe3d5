#include "pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace assay {

namespace {
using Clock = std::chrono::steady_clock;
// Retries of a commit that found the store busy (50 ms << n back-off, each
// after the store's own busy timeout): ~1.5 s of extra waiting in all.
constexpr int k_commit_retries = 5;
double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}
}  // namespace

Pipeline::Pipeline(PipelineSetup setup, Store& store, CommitCallback on_commit)
    : m_setup(std::move(setup)), m_store(store), m_on_commit(std::move(on_commit)) {
    int threads = m_setup.options.threads;
    if (threads <= 0) {
        threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
    }
    m_max_in_flight = static_cast<size_t>(threads) * 2 + 2;
    m_summary = empty_summary(m_setup.scorers);
    m_commit_counts.assign(commit_buckets().size() + 1, 0);
    for (int i = 0; i < threads; ++i) {
        m_scorers.emplace_back([this] { scoring_loop(); });
    }
    m_writer = std::thread([this] { writer_loop(); });
}

Pipeline::~Pipeline() { (void)finish(); }  // a caller that cares called finish() first

Status Pipeline::submit(RawRecord record, RecordOrigin origin) {
    if (!m_current) {
        m_current = std::make_unique<Chunk>();
        m_current->records.reserve(static_cast<size_t>(m_setup.options.batch_size));
        m_current_started = Clock::now();
    }
    m_current->records.push_back(std::move(record));
    m_current->origins.push_back(origin);
    if (m_current->records.size() >= static_cast<size_t>(m_setup.options.batch_size)) {
        flush();
    }
    std::lock_guard<std::mutex> lock(m_mu);
    return m_error;
}

void Pipeline::flush() {
    if (!m_current || m_current->records.empty()) {
        return;
    }
    std::unique_lock<std::mutex> lock(m_mu);
    m_cv.wait(lock, [&] { return m_to_write.size() < m_max_in_flight || !m_error.ok(); });
    Chunk* c = m_current.get();
    std::future<void> f = c->done.get_future();
    m_to_write.emplace_back(std::move(m_current), std::move(f));
    m_to_score.push_back(c);
    m_cv.notify_all();
}

void Pipeline::flush_if_older(int64_t max_age_ms) {
    if (m_current && !m_current->records.empty() &&
        Clock::now() - m_current_started >= std::chrono::milliseconds(max_age_ms)) {
        flush();
    }
}

void Pipeline::release_committed() {
    std::vector<std::unique_ptr<Chunk>> done;
    {
        std::lock_guard<std::mutex> lock(m_mu);
        done.swap(m_committed);
    }
}

void Pipeline::scoring_loop() {
    for (;;) {
        Chunk* c = nullptr;
        // Committed chunks are freed here, by the threads that allocated
        // most of their memory (cheaper for the allocator than elsewhere).
        release_committed();
        {
            std::unique_lock<std::mutex> lock(m_mu);
            auto t0 = Clock::now();
            m_cv.wait(lock, [&] { return !m_to_score.empty() || m_stopping; });
            m_stats.scoring_wait += seconds_since(t0);
            if (m_to_score.empty()) {
                return;
            }
            c = m_to_score.front();
            m_to_score.pop_front();
        }
        c->summary = empty_summary(m_setup.scorers);
        auto t0 = Clock::now();
        process_chunk(c->records, m_setup.scorers, m_setup.limits, c->batch, c->summary,
                      &c->errors);
        {
            std::lock_guard<std::mutex> lock(m_mu);
            m_stats.scoring_busy += seconds_since(t0);
        }
        c->records.clear();
        c->records.shrink_to_fit();
        c->done.set_value();
    }
}

void Pipeline::writer_loop() {
    auto log = spdlog::get("store");
    for (;;) {
        std::unique_ptr<Chunk> c;
        std::future<void> ready;
        {
            std::unique_lock<std::mutex> lock(m_mu);
            m_cv.wait(lock, [&] { return !m_to_write.empty() || m_stopping; });
            if (m_to_write.empty()) {
                return;
            }
            // Leave the chunk at the front until it is committed, so
            // in-flight accounting stays right; take ownership of the future.
            ready = std::move(m_to_write.front().second);
        }
        auto t0 = Clock::now();
        ready.wait();
        m_stats.writer_wait += seconds_since(t0);
        Status st;
        {
            std::lock_guard<std::mutex> lock(m_mu);
            c = std::move(m_to_write.front().first);
            st = m_error;
        }
        double commit_seconds = 0;
        if (st.ok()) {
            auto t1 = Clock::now();
            st = m_store.write(c->batch);
            // `unavailable`: another connection (a second worker sharing the
            // file, the judge stage) held the write lock past the busy
            // timeout. The write is atomic, so trying again is safe.
            // The worker keeps trying (not ready meanwhile); batch commands
            // give up after k_commit_retries.
            const bool wait = m_setup.options.wait_for_store_lock;
            // The worker logs an outage once when it starts and once when
            // it ends, however long it lasts; a batch command logs each of
            // its few retries.
            int retries = 0;
            for (int retry = 1;
                 st.code() == StatusCode::unavailable && (wait || retry <= k_commit_retries);
                 ++retry) {
                m_store_blocked.store(true);
                retries = retry;
                if (log && wait && retry == 1) {
                    log->warn(
                        "store unavailable: {}; retrying the commit with back-off (up to 5 s "
                        "apart) until it is back: not ready, nothing acknowledged meanwhile",
                        st.message());
                } else if (log && !wait) {
                    log->warn("commit retry {}/{} after {:.0f} s: {}", retry, k_commit_retries,
                              seconds_since(t1), st.message());
                }
                std::this_thread::sleep_for(
                    std::chrono::milliseconds(std::min(50 << std::min(retry, 7), 5000)));
                st = m_store.write(c->batch);
            }
            if (m_store_blocked.exchange(false) && log && st.ok()) {
                log->info("store available again after {:.0f} s ({} retries); carrying on",
                          seconds_since(t1), retries);
            }
            commit_seconds = seconds_since(t1);
            m_stats.writer_busy += commit_seconds;
            if (!st.ok() && log) {
                log->error("commit failed: {}", st.message());
            }
        }
        if (st.ok() && m_on_commit) {
            std::vector<std::shared_ptr<const Trace>> judged;
            int32_t last = -1;
            for (const JudgeTask& t : c->batch.judge_tasks) {
                if (t.batch_index >= 0 && t.batch_index != last) {
                    last = t.batch_index;
                    judged.push_back(std::make_shared<const Trace>(
                        std::move(c->batch.traces[static_cast<size_t>(t.batch_index)])));
                }
            }
            m_on_commit(CommitReport{c->origins, c->errors, c->summary, judged});
        }
        {
            std::lock_guard<std::mutex> lock(m_mu);
            m_to_write.pop_front();
            if (st.ok()) {
                m_summary.merge(c->summary);
                const auto& bounds = commit_buckets();
                size_t b = 0;
                while (b < bounds.size() && commit_seconds > bounds[b]) {
                    ++b;
                }
                ++m_commit_counts[b];
                m_commit_seconds_sum += commit_seconds;
            } else {
                ++m_commit_failures;
                if (m_error.ok()) {
                    m_error = st;
                }
            }
            m_committed.push_back(std::move(c));
            m_cv.notify_all();
        }
    }
}

Status Pipeline::finish() {
    if (m_finished) {
        std::lock_guard<std::mutex> lock(m_mu);
        return m_error;
    }
    flush();
    {
        std::unique_lock<std::mutex> lock(m_mu);
        m_cv.wait(lock, [&] { return m_to_write.empty(); });
        m_stopping = true;
        m_cv.notify_all();
    }
    for (auto& t : m_scorers) {
        t.join();
    }
    m_writer.join();
    release_committed();
    m_finished = true;
    if (auto log = spdlog::get("pipeline")) {
        log->debug(
            "pipeline: scoring busy {:.3f} s, waited {:.3f} s; writer busy {:.3f} s, waited {:.3f} "
            "s",
            m_stats.scoring_busy, m_stats.scoring_wait, m_stats.writer_busy, m_stats.writer_wait);
    }
    std::lock_guard<std::mutex> lock(m_mu);
    return m_error;
}

const std::vector<double>& Pipeline::commit_buckets() {
    static const std::vector<double> k_bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
    return k_bounds;
}

Pipeline::Metrics Pipeline::metrics() const {
    std::lock_guard<std::mutex> lock(m_mu);
    Metrics m;
    m.committed = m_summary;
    m.chunks_in_flight = m_to_write.size();
    m.commit_counts = m_commit_counts;
    m.commit_seconds_sum = m_commit_seconds_sum;
    m.commit_failures = m_commit_failures;
    m.store_blocked = m_store_blocked.load();
    return m;
}

RunSummary Pipeline::summary() const {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_summary;
}

}  // namespace assay
