#include "ingest/otlp/trace_assembler.h"

#include <algorithm>
#include <utility>

#include "core/text.h"
#include "ingest/otlp/trace_mapping.h"

namespace assay {

namespace {

struct RootPick {
    std::optional<size_t> root;  // a true root (see the header)
    size_t candidate = 0;        // best guess when there is none
};

RootPick pick_root(const std::vector<OtlpSpan>& spans,
                   const std::unordered_map<std::string, size_t>& index) {
    RootPick pick;
    std::optional<size_t> orphan;
    auto earlier = [&](std::optional<size_t> cur, size_t i) {
        return !cur || spans[i].start_unix_nano < spans[*cur].start_unix_nano;
    };
    std::optional<size_t> parentless;
    for (size_t i = 0; i < spans.size(); ++i) {
        const OtlpSpan& s = spans[i];
        if (s.parent_span_id.empty()) {
            if (earlier(parentless, i)) {
                parentless = i;
            }
            continue;
        }
        if (index.count(s.parent_span_id) != 0) {
            continue;
        }
        if (s.parent_is_remote || s.kind == OtlpSpanKind::server ||
            s.kind == OtlpSpanKind::consumer) {
            if (earlier(pick.root, i)) {
                pick.root = i;
            }
        } else if (earlier(orphan, i)) {
            orphan = i;
        }
    }
    if (parentless) {
        pick.root = parentless;
    }
    pick.candidate = pick.root ? *pick.root : orphan.value_or(0);
    return pick;
}

size_t json_bytes(const nlohmann::json& v) {
    if (v.is_string()) {
        return v.get_ref<const std::string&>().size() + 16;
    }
    size_t n = 16;
    if (v.is_object()) {
        for (const auto& [k, x] : v.items()) {
            n += k.size() + json_bytes(x);
        }
    } else if (v.is_array()) {
        for (const auto& x : v) {
            n += json_bytes(x);
        }
    }
    return n;
}

size_t map_bytes(const AttributeMap& m) {
    size_t n = 0;
    for (const auto& [k, v] : m) {
        n += k.size() + json_bytes(v) + 32;
    }
    return n;
}

}  // namespace

size_t span_bytes(const OtlpSpan& s) {
    size_t n = sizeof(OtlpSpan) + s.trace_id.size() + s.span_id.size() + s.parent_span_id.size() +
               s.name.size() + s.status_message.size() + s.scope_name.size() +
               map_bytes(s.attributes);
    for (const OtlpEvent& e : s.events) {
        n += sizeof(OtlpEvent) + e.name.size() + map_bytes(e.attributes);
    }
    return n;
}

TraceAssembler::TraceAssembler(AssemblerOptions options) : m_options(options) {
    m_options.max_spans_per_trace = std::max<size_t>(m_options.max_spans_per_trace, 1);
}

Status TraceAssembler::add(std::vector<OtlpSpan> spans, int64_t now_ms) {
    std::unordered_set<std::string> new_traces;
    size_t incoming = 0, incoming_bytes = 0;
    std::vector<size_t> sizes(spans.size(), 0);
    for (size_t i = 0; i < spans.size(); ++i) {
        const OtlpSpan& s = spans[i];
        if (m_recent.count(s.trace_id) != 0) {
            continue;
        }
        ++incoming;
        sizes[i] = span_bytes(s);
        incoming_bytes += sizes[i];
        if (m_traces.count(s.trace_id) == 0) {
            new_traces.insert(s.trace_id);
        }
    }
    if (new_traces.size() > m_options.max_open_traces || incoming > m_options.max_open_spans) {
        ++m_stats.refused_batches;
        return Status::limit_exceeded("one request holds " + std::to_string(new_traces.size()) +
                                      " new traces and " + std::to_string(incoming) +
                                      " spans; the limits are " +
                                      std::to_string(m_options.max_open_traces) + " traces and " +
                                      std::to_string(m_options.max_open_spans) + " spans");
    }
    if (m_traces.size() + new_traces.size() > m_options.max_open_traces) {
        ++m_stats.refused_batches;
        return Status::unavailable("too many open traces: " + std::to_string(m_traces.size()) +
                                   " held, " + std::to_string(new_traces.size()) +
                                   " new, the limit is " +
                                   std::to_string(m_options.max_open_traces));
    }
    if (incoming_bytes > m_options.max_open_bytes) {
        ++m_stats.refused_batches;
        return Status::limit_exceeded("one request holds " + std::to_string(incoming_bytes) +
                                      " bytes of spans; the limit of pending spans is " +
                                      std::to_string(m_options.max_open_bytes) +
                                      " bytes (worker.otlp_max_pending_bytes)");
    }
    const size_t byte_limit =
        new_traces.empty() ? m_options.max_open_bytes / 4 * 5 : m_options.max_open_bytes;
    if (m_open_bytes + incoming_bytes > byte_limit) {
        ++m_stats.refused_batches;
        return Status::unavailable(
            "pending spans hold " + std::to_string(m_open_bytes) + " bytes, " +
            std::to_string(incoming_bytes) + " new, the limit is " +
            std::to_string(m_options.max_open_bytes) + " (worker.otlp_max_pending_bytes)");
    }
    if (m_open_spans + incoming > m_options.max_open_spans) {
        ++m_stats.refused_batches;
        return Status::unavailable("too many open spans: " + std::to_string(m_open_spans) +
                                   " held, " + std::to_string(incoming) + " new, the limit is " +
                                   std::to_string(m_options.max_open_spans));
    }
    for (size_t i = 0; i < spans.size(); ++i) {
        OtlpSpan& s = spans[i];
        if (m_recent.count(s.trace_id) != 0) {
            ++m_stats.late_spans;
            continue;
        }
        auto [it, inserted] = m_traces.try_emplace(s.trace_id);
        OpenTrace& t = it->second;
        if (inserted) {
            t.first_arrival_ms = now_ms;
            t.sequence = m_sequence++;
        }
        auto known = t.index.find(s.span_id);
        if (known != t.index.end()) {
            const size_t old = span_bytes(t.spans[known->second]);
            t.bytes = t.bytes - old + sizes[i];
            m_open_bytes = m_open_bytes - old + sizes[i];
            t.spans[known->second] = std::move(s);
            t.last_arrival_ms = std::max(t.last_arrival_ms, now_ms);
            continue;
        }
        if (t.spans.size() >= m_options.max_spans_per_trace) {
            ++t.dropped;
            ++m_stats.overflow_spans;
            continue;
        }
        t.index.emplace(s.span_id, t.spans.size());
        t.spans.push_back(std::move(s));
        t.last_arrival_ms = std::max(t.last_arrival_ms, now_ms);
        ++m_open_spans;
        t.bytes += sizes[i];
        m_open_bytes += sizes[i];
    }
    return {};
}

std::vector<AssembledTrace> TraceAssembler::take_complete(int64_t now_ms) {
    return take(now_ms, false, true);
}

std::vector<AssembledTrace> TraceAssembler::take_complete_unmapped(int64_t now_ms) {
    return take(now_ms, false, false);
}

std::vector<AssembledTrace> TraceAssembler::take_all(int64_t now_ms) {
    return take(now_ms, true, true);
}

void map_assembled(AssembledTrace& trace, const AssemblerOptions& options) {
    if (trace.spans.empty()) {
        return;
    }
    trace.value =
        build_trace_value(trace.spans, trace.root, options, trace.reason, trace.dropped_spans);
    trace.spans.clear();
    trace.spans.shrink_to_fit();
}

std::vector<AssembledTrace> TraceAssembler::take(int64_t now_ms, bool all, bool map) {
    struct Ready {
        uint64_t sequence;
        std::string trace_id;
        size_t root;
        std::string reason;
    };
    std::vector<Ready> ready;
    for (const auto& [id, t] : m_traces) {
        if (t.pins > 0) {
            continue;  // its spans are being stored
        }
        const bool idle = now_ms - t.last_arrival_ms >= m_options.idle_ms;
        const bool old = now_ms - t.first_arrival_ms >= m_options.max_trace_age_ms;
        if (!idle && !old && !all) {
            continue;  // cannot be complete yet: skip the root search
        }
        const RootPick pick = pick_root(t.spans, t.index);
        const bool root_ended = pick.root && t.spans[*pick.root].ended;
        if (root_ended && idle) {
            ready.push_back({t.sequence, id, *pick.root, {}});
            continue;
        }
        if (!old && !all) {
            continue;
        }
        std::string reason;
        const std::string age = std::to_string(m_options.max_trace_age_ms);
        const std::string within =
            old ? " within " + age + " ms (max_trace_age_ms)" : " (taken before it expired)";
        if (!pick.root) {
            reason = "no root span arrived" + within + "; " + std::to_string(t.spans.size()) +
                     " span(s) whose parent never arrived";
        } else if (!root_ended) {
            reason = "root span '" + excerpt(t.spans[*pick.root].name, 128) + "' had not ended" +
                     (old ? " after " + age + " ms (max_trace_age_ms)" : within);
        } else {
            reason = "spans were still arriving" +
                     (old ? " " + age + " ms (max_trace_age_ms) after the first" : within);
        }
        ready.push_back({t.sequence, id, pick.candidate, std::move(reason)});
    }
    std::sort(ready.begin(), ready.end(),
              [](const Ready& a, const Ready& b) { return a.sequence < b.sequence; });

    std::vector<AssembledTrace> out;
    out.reserve(ready.size());
    for (Ready& r : ready) {
        auto it = m_traces.find(r.trace_id);
        OpenTrace& t = it->second;
        AssembledTrace a;
        a.trace_id = r.trace_id;
        a.complete = r.reason.empty();
        a.reason = std::move(r.reason);
        a.span_count = t.spans.size();
        a.dropped_spans = t.dropped;
        if (a.complete) {
            ++m_stats.completed;
        } else {
            ++m_stats.expired;
        }
        m_open_spans -= t.spans.size();
        m_open_bytes -= t.bytes;
        a.spans = std::move(t.spans);
        a.root = r.root;
        if (map) {
            map_assembled(a, m_options);
        }
        m_traces.erase(it);
        remember(a.trace_id);
        out.push_back(std::move(a));
    }
    return out;
}

void TraceAssembler::pin(const std::vector<std::string>& trace_ids) {
    for (const std::string& id : trace_ids) {
        if (auto it = m_traces.find(id); it != m_traces.end()) {
            ++it->second.pins;
        }
    }
}

void TraceAssembler::unpin(const std::vector<std::string>& trace_ids) {
    for (const std::string& id : trace_ids) {
        if (auto it = m_traces.find(id); it != m_traces.end() && it->second.pins > 0) {
            --it->second.pins;
        }
    }
}

void TraceAssembler::remember(const std::string& trace_id) {
    if (m_options.remember_completed == 0) {
        return;
    }
    if (m_recent.insert(trace_id).second) {
        m_recent_order.push_back(trace_id);
    }
    while (m_recent_order.size() > m_options.remember_completed) {
        m_recent.erase(m_recent_order.front());
        m_recent_order.pop_front();
    }
}

std::vector<OtlpSpan> TraceAssembler::pending_spans() const {
    std::vector<OtlpSpan> out;
    out.reserve(m_open_spans);
    for (const auto& [id, t] : m_traces) {
        out.insert(out.end(), t.spans.begin(), t.spans.end());
    }
    return out;
}

AssemblerStats TraceAssembler::stats() const {
    AssemblerStats s = m_stats;
    s.open_traces = m_traces.size();
    s.open_spans = m_open_spans;
    s.open_bytes = m_open_bytes;
    return s;
}

}  // namespace assay
