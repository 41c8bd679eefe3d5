// OtlpIntake's claims (intake.h, "Several workers"): which worker builds a
// trace whose spans may sit in the span store of several workers.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <unordered_set>

#include "ingest/otlp/intake.h"
#include "store/judge_claimant.h"

namespace assay {

namespace {

std::shared_ptr<spdlog::logger> log() {
    auto l = spdlog::get("ingest");
    return l ? l : spdlog::default_logger();
}

// Traces the sweep claims per pass.
constexpr size_t k_sweep_batch = 256;
// Traces claimed per claim transaction.
constexpr size_t k_claim_chunk = 64;

}  // namespace

size_t OtlpIntake::add_rows(TraceAssembler& into, const std::vector<PendingSpanRow>& rows) {
    OtlpLimits generous;
    generous.max_body_bytes = SIZE_MAX;
    size_t added = 0;
    // Rows come ordered by arrival; each arrival group is added with its own
    // time so the idle and max-wait timers resume where they were.
    size_t i = 0;
    while (i < rows.size()) {
        const int64_t at = rows[i].received_ms;
        std::vector<OtlpSpan> group;
        for (; i < rows.size() && rows[i].received_ms == at; ++i) {
            const PendingSpanRow& r = rows[i];
            auto spans = parse_otlp_json(r.span_json, generous);
            if (!spans.ok()) {
                log()->warn("otlp: pending span {} of trace {} no longer decodes, skipped: {}",
                            r.span_id, r.trace_key, spans.status().message());
                continue;
            }
            std::move(spans->begin(), spans->end(), std::back_inserter(group));
        }
        const size_t n = group.size();
        if (Status st = into.add(std::move(group), at); !st.ok()) {
            log()->warn("otlp: {} pending spans received at {} not reloaded: {}", n, at,
                        st.message());
            continue;
        }
        added += n;
    }
    return added;
}

bool OtlpIntake::build_from_rows(const std::vector<PendingSpanRow>& rows, int64_t now_ms,
                                 AssembledTrace& out) const {
    AssemblerOptions o = m_options.assembler;
    o.max_open_traces = SIZE_MAX;
    o.max_open_spans = SIZE_MAX;
    o.max_open_bytes = size_t{1} << 60;
    o.remember_completed = 0;
    TraceAssembler one(o);
    add_rows(one, rows);
    std::vector<AssembledTrace> built = one.take_all(now_ms);
    if (built.size() != 1) {
        return false;
    }
    out = std::move(built.front());
    return true;
}

std::vector<AssembledTrace> OtlpIntake::claim_ready(std::vector<AssembledTrace> ready,
                                                    int64_t now_ms) {
    if (!m_claim_retry.empty()) {
        std::move(ready.begin(), ready.end(), std::back_inserter(m_claim_retry));
        ready = std::move(m_claim_retry);
        m_claim_retry.clear();
    }
    std::vector<AssembledTrace> out;
    // A claim transaction holds the span store (and, on SQLite, the file's
    // write lock): in short ones, the spans of requests arriving meanwhile
    // are stored between them instead of waiting for the whole backlog.
    for (size_t begin = 0; begin < ready.size(); begin += k_claim_chunk) {
        const size_t end = std::min(ready.size(), begin + k_claim_chunk);
        std::vector<AssembledTrace> chunk(std::make_move_iterator(ready.begin() + begin),
                                          std::make_move_iterator(ready.begin() + end));
        claim_chunk(std::move(chunk), now_ms, out);
    }
    sweep(now_ms, out);
    return out;
}

void OtlpIntake::claim_chunk(std::vector<AssembledTrace> ready, int64_t now_ms,
                             std::vector<AssembledTrace>& out) {
    std::vector<SpanClaimAsk> asks;
    asks.reserve(ready.size());
    for (const AssembledTrace& t : ready) {
        asks.push_back(
            {t.trace_id, static_cast<int64_t>(t.span_count + t.dropped_spans), !t.complete, {}});
    }
    auto claims = m_spans.claim(asks, m_claimant, now_ms, m_options.assembler.idle_ms,
                                m_options.claim_lease_ms);
    if (!claims.ok()) {
        log()->error("otlp: {} (claimed again later)", claims.status().message());
        std::move(ready.begin(), ready.end(), std::back_inserter(m_claim_retry));
        std::lock_guard<std::mutex> c(m_mu);
        ++m_counters.store_errors;
        return;
    }
    // Held by a process of this host that is gone (killed, then this
    // worker restarted and reloaded its spans): taken over at once.
    std::vector<size_t> redo;
    std::vector<SpanClaimAsk> again;
    for (size_t i = 0; i < ready.size(); ++i) {
        const SpanClaim& c = (*claims)[i];
        if (c.outcome == SpanClaimOutcome::taken && c.holder != m_claimant &&
            judge_claimant_dead_here(c.holder)) {
            redo.push_back(i);
            again.push_back(asks[i]);
            again.back().dead_holder = c.holder;
        }
    }
    if (!redo.empty()) {
        auto retaken = m_spans.claim(again, m_claimant, now_ms, m_options.assembler.idle_ms,
                                     m_options.claim_lease_ms);
        if (retaken.ok()) {
            for (size_t k = 0; k < redo.size(); ++k) {
                (*claims)[redo[k]] = std::move((*retaken)[k]);
            }
        } else {
            log()->error("otlp: {} (left to the sweep)", retaken.status().message());
        }
    }
    uint64_t skipped = 0, taken = 0, busy = 0, merged = 0;
    for (size_t i = 0; i < ready.size(); ++i) {
        AssembledTrace& t = ready[i];
        SpanClaim& c = (*claims)[i];
        switch (c.outcome) {
            case SpanClaimOutcome::stored:
                // Left-over spans of a trace scored before (late spans,
                // from before a restart or at another worker): never
                // overwrite the stored trace.
                // debug: with several workers, every worker that got
                // a child of a trace comes here once (counted).
                log()->debug("otlp: trace {}: {} more spans after it was scored, dropped ({})",
                             t.trace_id, t.span_count,
                             t.reason.empty() ? "already stored" : t.reason);
                m_to_erase.push_back(t.trace_id);
                ++skipped;
                break;
            case SpanClaimOutcome::taken:
                ++taken;  // another worker builds it from every stored span
                break;
            case SpanClaimOutcome::busy: {
                // Spans still reach another worker: wait with all of them.
                ++busy;
                std::lock_guard<std::mutex> lock(m_assembler_mu);
                m_assembler.forget(t.trace_id);
                add_rows(m_assembler, c.rows);
                break;
            }
            case SpanClaimOutcome::claimed:
                if (!c.rows.empty()) {
                    // Other workers hold spans of it: build from all.
                    AssembledTrace all;
                    if (build_from_rows(c.rows, now_ms, all)) {
                        t = std::move(all);
                        ++merged;
                    }
                }
                out.push_back(std::move(t));
                break;
        }
    }
    std::lock_guard<std::mutex> c(m_mu);
    m_counters.traces_skipped_stored += skipped;
    m_counters.claims_taken += taken;
    m_counters.claims_busy += busy;
    m_counters.traces_merged += merged;
}

int64_t otlp_sweep_interval_ms(const AssemblerOptions& assembler) {
    return std::max({assembler.idle_ms, int64_t{1000}, assembler.max_trace_age_ms / 20});
}

void OtlpIntake::sweep(int64_t now_ms, std::vector<AssembledTrace>& out) {
    if (now_ms < m_next_sweep_ms) {
        return;
    }
    m_next_sweep_ms = now_ms + otlp_sweep_interval_ms(m_options.assembler);
    auto keys =
        m_spans.stale_traces(now_ms - m_options.assembler.max_trace_age_ms, now_ms, k_sweep_batch);
    if (!keys.ok()) {
        log()->error("otlp: {} (swept again later)", keys.status().message());
        std::lock_guard<std::mutex> c(m_mu);
        ++m_counters.store_errors;
        return;
    }
    std::vector<SpanClaimAsk> asks;
    {
        // Traces this worker holds expire through its own assembler.
        std::lock_guard<std::mutex> lock(m_assembler_mu);
        for (std::string& k : *keys) {
            if (!m_assembler.holds(k)) {
                asks.push_back({std::move(k), 0, true, {}});
            }
        }
    }
    if (asks.empty()) {
        return;
    }
    auto claims = m_spans.claim(asks, m_claimant, now_ms, m_options.assembler.idle_ms,
                                m_options.claim_lease_ms);
    if (!claims.ok()) {
        log()->error("otlp: {} (swept again later)", claims.status().message());
        std::lock_guard<std::mutex> c(m_mu);
        ++m_counters.store_errors;
        return;
    }
    uint64_t swept = 0;
    for (size_t i = 0; i < asks.size(); ++i) {
        SpanClaim& c = (*claims)[i];
        if (c.outcome == SpanClaimOutcome::stored) {
            m_to_erase.push_back(asks[i].trace_key);
            continue;
        }
        if (c.outcome != SpanClaimOutcome::claimed) {
            continue;
        }
        AssembledTrace t;
        if (!build_from_rows(c.rows, now_ms, t)) {
            log()->warn("otlp: trace {}: no pending span of it decodes; its rows are erased",
                        asks[i].trace_key);
            m_to_erase.push_back(asks[i].trace_key);
            continue;
        }
        log()->info("otlp: trace {}: completed from {} stored spans no live worker held",
                    t.trace_id, c.rows.size());
        out.push_back(std::move(t));
        ++swept;
    }
    std::lock_guard<std::mutex> c(m_mu);
    m_counters.traces_swept += swept;
}

}  // namespace assay
