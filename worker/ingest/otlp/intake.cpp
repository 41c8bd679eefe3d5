#include "ingest/otlp/intake.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <thread>

#include "core/clock.h"
#include "core/parallel_parts.h"
#include "core/prometheus_text.h"
#include "core/text.h"
#include "ingest/otlp/pending_rows.h"
#include "ingest/otlp/protobuf.h"
#include "ingest/otlp/trace_record.h"
#include "store/judge_claimant.h"

namespace assay {

namespace {

// gRPC status codes used in OTLP error bodies (google.rpc.Status).
constexpr int k_grpc_invalid_argument = 3;
constexpr int k_grpc_resource_exhausted = 8;
constexpr int k_grpc_unavailable = 14;

const char* k_source_grpc = "otlp:grpc";

// A batch of complete traces is mapped on several threads only with at least
// this many traces per thread.
constexpr size_t k_min_traces_per_thread = 32;
// Complete traces claimed, mapped and submitted at a time by pump().
constexpr size_t k_pump_part = 256;
// Traces whose pending spans are erased per span store transaction.
constexpr size_t k_erase_chunk = 128;

std::shared_ptr<spdlog::logger> log() {
    auto l = spdlog::get("ingest");
    return l ? l : spdlog::default_logger();
}

// Decrements the active-request count when an export ends, however it ends.
struct ActiveGuard {
    std::atomic<int>& n;
    ~ActiveGuard() { n.fetch_sub(1); }
};

}  // namespace

OtlpIntake::OtlpIntake(OtlpIntakeOptions options, SpanStore& spans)
    : m_options(std::move(options)),
      m_spans(spans),
      m_assembler(m_options.assembler),
      m_claimant(m_options.claimant.empty() ? make_judge_claimant() : m_options.claimant),
      m_map_threads(m_options.map_threads > 0
                        ? m_options.map_threads
                        : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4)) {}

Result<size_t> OtlpIntake::restore() {
    auto rows = m_spans.load();
    if (!rows.ok()) {
        return rows.status();
    }
    std::lock_guard<std::mutex> lock(m_assembler_mu);
    const size_t restored = add_rows(m_assembler, *rows);
    std::lock_guard<std::mutex> c(m_mu);
    m_counters.pending_traces = m_assembler.open_traces();
    m_counters.pending_spans = m_assembler.open_spans();
    m_counters.pending_bytes = m_assembler.stats().open_bytes;
    return restored;
}

OtlpReply OtlpIntake::error_reply(int status, int grpc_code, const std::string& message,
                                  OtlpDoor door) {
    OtlpReply r;
    r.status = status;
    r.grpc_code = grpc_code;
    r.message = message;
    if (status == 503) {
        r.retry_after_s = m_options.retry_after_s;
    }
    if (door == OtlpDoor::http_json) {
        nlohmann::json body = {{"code", grpc_code}, {"message", message}};
        r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        r.body = otlp_rpc_status_protobuf(grpc_code, message, r.retry_after_s);
        r.content_type = "application/x-protobuf";
    }
    std::lock_guard<std::mutex> lock(m_mu);
    switch (status) {
        case 400:
            ++m_counters.requests_400;
            break;
        case 413:
            ++m_counters.requests_413;
            break;
        case 415:
            ++m_counters.requests_415;
            break;
        case 431:
            ++m_counters.requests_431;
            break;
        default:
            ++m_counters.requests_503;
            break;
    }
    return r;
}

void OtlpIntake::dead_letter(const std::string& error, std::string_view body, int64_t claimed_bytes,
                             int64_t now_ms, OtlpDoor door) {
    std::string raw(body.substr(0, m_options.max_trace_bytes));
    Status st =
        m_spans.dead_letter(now_ms, door == OtlpDoor::grpc ? k_source_grpc : k_otlp_http_source,
                            error, raw, claimed_bytes);
    if (!st.ok()) {
        log()->error("otlp: {} (and the dead letter was not stored: {})", error, st.message());
        std::lock_guard<std::mutex> lock(m_mu);
        ++m_counters.store_errors;
    }
}

OtlpReply OtlpIntake::reject(int status, const std::string& message, int64_t claimed_bytes,
                             int64_t now_ms, OtlpDoor door, std::string_view body) {
    dead_letter("otlp: " + message, body, claimed_bytes, now_ms, door);
    return error_reply(
        status,
        status == 413 || status == 431 ? k_grpc_resource_exhausted : k_grpc_invalid_argument,
        message, door);
}

Status OtlpIntake::commit_rows(std::vector<PendingSpanRow> rows) {
    GroupEntry me{std::move(rows), {}, false};
    std::unique_lock<std::mutex> lock(m_group_mu);
    m_group_queue.push_back(&me);
    while (!me.done) {
        if (m_group_committing) {
            m_group_cv.wait(lock);
            continue;
        }
        // Leader: commit every request waiting now in one transaction.
        m_group_committing = true;
        std::vector<GroupEntry*> group;
        group.swap(m_group_queue);
        lock.unlock();
        std::vector<PendingSpanRow> all;
        if (group.size() == 1) {
            all = std::move(group[0]->rows);
        } else {
            for (GroupEntry* e : group) {
                std::move(e->rows.begin(), e->rows.end(), std::back_inserter(all));
            }
        }
        Status st = m_spans.put(all);
        {
            std::lock_guard<std::mutex> c(m_mu);
            ++m_counters.commits;
        }
        lock.lock();
        for (GroupEntry* e : group) {
            e->result = st;
            e->done = true;
        }
        m_group_committing = false;
        m_group_cv.notify_all();
    }
    return me.result;
}

OtlpReply OtlpIntake::export_request(std::string_view body, OtlpDoor door, int64_t now_ms) {
    {
        std::lock_guard<std::mutex> c(m_mu);
        ++(door == OtlpDoor::http_json       ? m_counters.requests_json
           : door == OtlpDoor::http_protobuf ? m_counters.requests_protobuf
                                             : m_counters.requests_grpc);
    }
    if (m_active.fetch_add(1) >= m_options.max_concurrent_requests) {
        m_active.fetch_sub(1);
        return error_reply(503, k_grpc_unavailable,
                           "too many export requests in progress (" +
                               std::to_string(m_options.max_concurrent_requests) + "); retry later",
                           door);
    }
    ActiveGuard guard{m_active};
    if (m_unscored.load() >= m_options.max_unscored_traces) {
        return error_reply(503, k_grpc_unavailable,
                           "the scoring pipeline is behind (" + std::to_string(m_unscored.load()) +
                               " traces waiting for their commit); retry later",
                           door);
    }
    const int64_t size = static_cast<int64_t>(body.size());
    if (body.size() > m_options.limits.max_body_bytes) {
        const std::string why =
            "request body is " + std::to_string(body.size()) + " bytes; the limit is " +
            std::to_string(m_options.limits.max_body_bytes) + " (worker.otlp_max_body_bytes)";
        dead_letter("otlp: " + why, body, size, now_ms, door);
        return error_reply(413, k_grpc_resource_exhausted, why, door);
    }
    Result<std::vector<OtlpSpan>> parsed = Status::invalid_argument("not decoded");
    try {
        parsed = door == OtlpDoor::http_json ? parse_otlp_json(body, m_options.limits)
                                             : parse_otlp_protobuf(body, m_options.limits);
    } catch (const std::exception& e) {
        // Whatever the decoders did not foresee is still the client's input:
        // 400 and a dead letter, never a 500.
        parsed = Status::invalid_argument(escape_invalid_utf8(e.what()));
    }
    if (!parsed.ok()) {
        const std::string why = "invalid ExportTraceServiceRequest: " + parsed.status().message();
        dead_letter("otlp: " + why, body, size, now_ms, door);
        return error_reply(400, k_grpc_invalid_argument, why, door);
    }
    std::vector<OtlpSpan>& spans = *parsed;
    const size_t received = spans.size();
    uint64_t late = 0, overflow = 0;
    if (!spans.empty()) {
        // Encoded outside the assembler's lock: the stored form of each
        // trace's spans (one row per trace, pending_rows.h).
        std::vector<PendingSpanRow> rows = pending_rows(spans, now_ms);
        std::vector<std::string> pinned;  // the traces of `rows`, once each
        {
            std::lock_guard<std::mutex> lock(m_assembler_mu);
            std::erase_if(rows, [&](const PendingSpanRow& r) {
                const bool is_late = m_assembler.was_returned(r.trace_key);
                late += is_late ? static_cast<uint64_t>(r.span_count) : 0;
                return is_late;
            });
            const uint64_t overflow_before = m_assembler.stats().overflow_spans;
            Status st = m_assembler.add(std::move(spans), now_ms);
            if (st.code() == StatusCode::limit_exceeded) {
                dead_letter("otlp: " + st.message(), body, size, now_ms, door);
                return error_reply(413, k_grpc_resource_exhausted, st.message(), door);
            }
            if (!st.ok()) {
                return error_reply(503, k_grpc_unavailable, st.message() + "; retry later", door);
            }
            overflow = m_assembler.stats().overflow_spans - overflow_before;
            // Held back from pump() until their spans are stored: else the
            // trace could be scored and its rows erased before this put
            // lands, and the rows would stay behind.
            // One row per trace (pending_rows.h): its keys name each once.
            pinned.reserve(rows.size());
            for (const PendingSpanRow& r : rows) {
                pinned.push_back(r.trace_key);
            }
            m_assembler.pin(pinned);
            std::lock_guard<std::mutex> c(m_mu);
            m_counters.pending_traces = m_assembler.open_traces();
            m_counters.pending_spans = m_assembler.open_spans();
            m_counters.pending_bytes = m_assembler.stats().open_bytes;
        }
        Status put = commit_rows(std::move(rows));
        {
            std::lock_guard<std::mutex> lock(m_assembler_mu);
            m_assembler.unpin(pinned);
        }
        // Spans held in memory but not stored: the exporter retries after the
        // 503 and its spans replace these (same span ids).
        if (!put.ok()) {
            log()->error("otlp: {}", put.message());
            {
                std::lock_guard<std::mutex> c(m_mu);
                ++m_counters.store_errors;
            }
            return error_reply(503, k_grpc_unavailable, "spans could not be stored; retry later",
                               door);
        }
    }
    const uint64_t rejected = late + overflow;
    std::string message;
    if (late > 0) {
        message = std::to_string(late) + " spans arrived after their trace was complete and scored";
    }
    if (overflow > 0) {
        message += std::string(message.empty() ? "" : "; ") + std::to_string(overflow) +
                   " spans exceed the limit of " +
                   std::to_string(m_options.assembler.max_spans_per_trace) + " spans per trace";
    }
    {
        std::lock_guard<std::mutex> lock(m_mu);
        ++m_counters.requests_ok;
        m_counters.spans_received += received;
        m_counters.spans_late += late;
        m_counters.spans_overflow += overflow;
    }
    if (door == OtlpDoor::http_json) {
        return OtlpReply{200, otlp_export_response_json(static_cast<int64_t>(rejected), message),
                         0,   0,
                         {},  "application/json"};
    }
    return OtlpReply{200, otlp_export_response_protobuf(static_cast<int64_t>(rejected), message),
                     0,   0,
                     {},  "application/x-protobuf"};
}

void OtlpIntake::committed(const std::vector<uint64_t>& tags,
                           const std::vector<std::string>& errors) {
    // Erased here, on the writer thread right after the commit, rather than
    // by the producer: its CPU time per trace bounds the OTLP rate.
    std::vector<std::string> keys;
    keys.reserve(tags.size());
    {
        std::lock_guard<std::mutex> lock(m_mu);
        for (size_t i = 0; i < tags.size(); ++i) {
            auto it = m_in_flight.find(tags[i]);
            if (it == m_in_flight.end()) {
                continue;
            }
            keys.push_back(std::move(it->second));
            m_in_flight.erase(it);
            ++(errors[i].empty() ? m_counters.traces_committed : m_counters.traces_dead_lettered);
        }
        m_unscored.store(m_in_flight.size());
        m_counters.unscored_traces = m_in_flight.size();
    }
    // In short transactions, as the claims: requests store their spans
    // between them.
    for (size_t begin = 0; begin < keys.size(); begin += k_erase_chunk) {
        const size_t end = std::min(keys.size(), begin + k_erase_chunk);
        std::vector<std::string> part(std::make_move_iterator(keys.begin() + begin),
                                      std::make_move_iterator(keys.begin() + end));
        if (Status st = m_spans.erase(part); !st.ok()) {
            log()->error("otlp: {} (retried later)", st.message());
            std::lock_guard<std::mutex> lock(m_mu);
            ++m_counters.store_errors;
            std::move(part.begin(), part.end(), std::back_inserter(m_erase_retry));
        }
    }
}

void OtlpIntake::erase_committed() {
    {
        std::lock_guard<std::mutex> lock(m_mu);
        std::move(m_erase_retry.begin(), m_erase_retry.end(), std::back_inserter(m_to_erase));
        m_erase_retry.clear();
    }
    if (m_to_erase.empty()) {
        return;
    }
    if (Status st = m_spans.erase(m_to_erase); st.ok()) {
        m_to_erase.clear();
    } else {
        log()->error("otlp: {} (retried later)", st.message());
        std::lock_guard<std::mutex> lock(m_mu);
        ++m_counters.store_errors;
    }
}

Result<size_t> OtlpIntake::pump(RecordSink& sink, int64_t now_ms) {
    erase_committed();
    std::vector<AssembledTrace> ready;
    {
        std::lock_guard<std::mutex> lock(m_assembler_mu);
        // Mapped below, outside the lock: requests add spans meanwhile.
        ready = m_assembler.take_complete_unmapped(now_ms);
        if (!ready.empty()) {
            std::lock_guard<std::mutex> c(m_mu);
            m_counters.pending_traces = m_assembler.open_traces();
            m_counters.pending_spans = m_assembler.open_spans();
            m_counters.pending_bytes = m_assembler.stats().open_bytes;
        }
    }
    // In parts, each claimed, mapped and submitted before the next: the
    // pipeline scores and commits one part while the next is mapped.
    size_t submitted = 0;
    Status result;
    size_t begin = 0;
    do {
        const size_t end = std::min(ready.size(), begin + k_pump_part);
        std::vector<AssembledTrace> part(std::make_move_iterator(ready.begin() + begin),
                                         std::make_move_iterator(ready.begin() + end));
        begin = end;
        // Stored, or built by another worker: dropped here (intake_claim.cpp).
        part = claim_ready(std::move(part), now_ms);
        submitted += submit_claimed(part, sink, now_ms, result);
    } while (begin < ready.size());
    if (!result.ok()) {
        return result;
    }
    return submitted;
}

size_t OtlpIntake::submit_claimed(std::vector<AssembledTrace>& ready, RecordSink& sink,
                                  int64_t now_ms, Status& result) {
    if (ready.empty()) {
        return 0;
    }
    // Mapping, printing and building each trace is most of the producer's
    // work and needs no lock: spread over the cores for a large batch.
    std::vector<RawRecord> records(ready.size());
    run_in_parts(ready.size(), k_min_traces_per_thread, m_map_threads, [&](size_t i) {
        records[i] =
            assembled_record(ready[i], now_ms, m_options.assembler, m_options.max_trace_bytes);
    });
    uint64_t complete = 0, incomplete = 0;
    size_t submitted = 0;
    for (size_t i = 0; i < ready.size(); ++i) {
        AssembledTrace& t = ready[i];
        RawRecord& r = records[i];
        if (!t.complete) {
            log()->warn("otlp: trace {} expired incomplete: {}", t.trace_id, t.reason);
            ++incomplete;
        } else {
            ++complete;
        }
        const uint64_t seq = m_next_seq++;
        {
            // Before submit(): the writer may commit it (committed()) at once.
            std::lock_guard<std::mutex> lock(m_mu);
            m_in_flight.emplace(seq, t.trace_id);
            m_unscored.store(m_in_flight.size());
        }
        ++submitted;
        Status st = sink.submit(std::move(r), seq);
        if (!st.ok() && result.ok()) {
            result = st;
        }
    }
    std::lock_guard<std::mutex> lock(m_mu);
    m_counters.traces_complete += complete;
    m_counters.traces_incomplete += incomplete;
    m_counters.unscored_traces = m_in_flight.size();
    return submitted;
}

OtlpIntake::Counters OtlpIntake::counters() const {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_counters;
}

std::string OtlpIntake::render_metrics() const {
    const Counters c = counters();
    std::string out;
    auto family = [&](const char* name, const char* type, const char* help) {
        prom::header(out, name, type, help);
    };
    auto sample = [&](const std::string& name, uint64_t v) {
        out += name;
        out += ' ';
        out += std::to_string(v);
        out += '\n';
    };
    family("assay_otlp_requests_total", "counter",
           "OTLP/HTTP export requests answered, by HTTP status code.");
    sample("assay_otlp_requests_total{code=\"200\"}", c.requests_ok);
    sample("assay_otlp_requests_total{code=\"400\"}", c.requests_400);
    sample("assay_otlp_requests_total{code=\"413\"}", c.requests_413);
    sample("assay_otlp_requests_total{code=\"415\"}", c.requests_415);
    sample("assay_otlp_requests_total{code=\"431\"}", c.requests_431);
    sample("assay_otlp_requests_total{code=\"503\"}", c.requests_503);
    family("assay_otlp_requests_by_door_total", "counter",
           "OTLP export requests received, by door (HTTP JSON, HTTP protobuf, gRPC).");
    sample("assay_otlp_requests_by_door_total{door=\"http_json\"}", c.requests_json);
    sample("assay_otlp_requests_by_door_total{door=\"http_protobuf\"}", c.requests_protobuf);
    sample("assay_otlp_requests_by_door_total{door=\"grpc\"}", c.requests_grpc);
    family("assay_otlp_span_commits_total", "counter",
           "Transactions that stored accepted spans (concurrent requests share one).");
    sample("assay_otlp_span_commits_total", c.commits);
    family("assay_otlp_spans_received_total", "counter", "Spans in accepted OTLP export requests.");
    sample("assay_otlp_spans_received_total", c.spans_received);
    family("assay_otlp_spans_rejected_total", "counter",
           "Spans of accepted requests that were not kept (partialSuccess), by reason.");
    sample("assay_otlp_spans_rejected_total{reason=\"late\"}", c.spans_late);
    sample("assay_otlp_spans_rejected_total{reason=\"over_trace_limit\"}", c.spans_overflow);
    family("assay_otlp_traces_total", "counter", "Traces assembled from OTLP spans, by outcome.");
    sample("assay_otlp_traces_total{outcome=\"complete\"}", c.traces_complete);
    sample("assay_otlp_traces_total{outcome=\"expired_incomplete\"}", c.traces_incomplete);
    sample("assay_otlp_traces_total{outcome=\"dropped_already_stored\"}", c.traces_skipped_stored);
    family("assay_otlp_trace_claims_total", "counter",
           "Assembled OTLP traces another worker holds, or that wait for its spans (several "
           "workers).");
    sample("assay_otlp_trace_claims_total{outcome=\"taken_elsewhere\"}", c.claims_taken);
    sample("assay_otlp_trace_claims_total{outcome=\"spans_arriving_elsewhere\"}", c.claims_busy);
    family("assay_otlp_traces_shared_total", "counter",
           "OTLP traces built with spans other workers received, by how they were found.");
    sample("assay_otlp_traces_shared_total{found=\"assembled\"}", c.traces_merged);
    sample("assay_otlp_traces_shared_total{found=\"sweep\"}", c.traces_swept);
    family("assay_otlp_traces_committed_total", "counter",
           "Assembled OTLP traces committed, stored as traces or dead-lettered.");
    sample("assay_otlp_traces_committed_total{as=\"trace\"}", c.traces_committed);
    sample("assay_otlp_traces_committed_total{as=\"dead_letter\"}", c.traces_dead_lettered);
    family("assay_otlp_pending_traces", "gauge", "Traces waiting in the assembler for completion.");
    sample("assay_otlp_pending_traces", c.pending_traces);
    family("assay_otlp_pending_spans", "gauge", "Spans held by the assembler (and in otlp_spans).");
    sample("assay_otlp_pending_spans", c.pending_spans);
    family("assay_otlp_pending_bytes", "gauge",
           "Estimated bytes of the spans held (limit worker.otlp_max_pending_bytes).");
    sample("assay_otlp_pending_bytes", c.pending_bytes);
    family("assay_otlp_unscored_traces", "gauge",
           "Assembled traces submitted to the pipeline, not yet committed.");
    sample("assay_otlp_unscored_traces", c.unscored_traces);
    family("assay_otlp_store_errors_total", "counter", "Span store operations that failed.");
    sample("assay_otlp_store_errors_total", c.store_errors);
    return out;
}

}  // namespace assay
