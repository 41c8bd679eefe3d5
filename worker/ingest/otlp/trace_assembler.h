#pragma once
// TraceAssembler: groups OTLP spans (ingest/otlp_mapper.h) by trace id and
// turns each finished group into one Assay trace JSON text (the contract in
// README.md, "Trace format"), built from the group's root span.
//
// Completeness rule: a trace is returned by take_complete(now) only when
//   (1) it has a root span — a span with no parent, or whose parent is marked
//       remote in its flags, or a SERVER/CONSUMER span whose parent is not in
//       the trace (its parent lives in another service) — and
//   (2) that root has ended, and
//   (3) no span of the trace arrived during the last idle_ms (arrival time
//       is the now_ms given to add(), not the span's own timestamps).
// Never before. A child whose parent is missing (an INTERNAL or CLIENT span)
// is an orphan, not a root: its trace waits for the real root.
//
// Expiry rule (memory stays bounded): a trace whose first span arrived
// max_trace_age_ms ago or more is returned anyway, as incomplete
// (AssembledTrace::complete == false), with an "error" of type
// "incomplete_trace" naming why (no root, root not ended, spans still
// arriving), built from its best root candidate (the earliest-starting span
// whose parent is absent). Spans that arrive for a trace already returned
// (within the last remember_completed traces) are dropped and counted as
// late, so a retried export does not produce a second, partial trace.
//
// Attribute mapping (root span R; "span, else resource" = R's attribute, else
// R's resource attribute; the first key present wins):
//   input           R: gen_ai.input.messages (JSON string or array; GenAI
//                   {role, parts} or OpenAI {role, content}; prefixed by
//                   gen_ai.system_instructions), llm.input_messages.N.message.*
//                   (role, content, contents.M.message_content.text),
//                   gen_ai.prompt.N.{role,content}, gen_ai.prompt, event
//                   gen_ai.content.prompt, input.value; else the first LLM
//                   child (by start) that has one. Text that is a JSON message
//                   list becomes messages; when input.mime_type is
//                   application/json, {"messages": [...]}, {"choices": [...]}
//                   and a small object's input/query/question/prompt/output/
//                   answer/text/content/result string are unwrapped too; with
//                   text/plain the text is kept as it is
//   output          the same with gen_ai.output.messages, llm.output_messages,
//                   gen_ai.completion(.N), output.value; else the LLM child
//                   that ended last and has one
//   context         retrieval.documents.N.document.content of every span
//   reference       assay.reference (span, else resource)
//   metadata.model  assay.model, R's gen_ai.response.model,
//                   gen_ai.request.model, llm.model_name; else the last LLM child's
//   metadata.provider  gen_ai.provider.name, gen_ai.system, llm.provider, llm.system
//   metadata.feature   assay.feature, service.name (span, else resource)
//   tenant          assay.tenant, tenant.id
//   user_id         assay.user_id, user.id, enduser.id
//   session_id      assay.session_id, session.id, gen_ai.conversation.id
//   prompt_name     assay.prompt_name
//   prompt_version  assay.prompt_version, llm.prompt_template.version
//   environment     assay.environment, deployment.environment.name, deployment.environment
//   expected_format assay.expected_format
//   tags            assay.tags (array, or comma-separated string), tag.tags
//   other metadata  assay.<key> → <key>; then every other attribute of R and
//                   of its resource under its own key (R wins), except the
//                   content keys above; at most max_metadata_keys, strings cut
//                   at max_value_bytes
//   metadata.spans  [{name, kind: llm|tool|retriever, duration_ms, model,
//                   input_tokens, output_tokens, tool, error}] for spans below
//                   R, in start order, at most max_summary_spans
//                   (spans_omitted counts the rest); plus otel.root_span,
//                   otel.span_count, otel.dropped_spans, otel.incomplete
//   usage           R's gen_ai.usage.input_tokens|prompt_tokens /
//                   llm.token_count.prompt, ...output_tokens|completion_tokens /
//                   llm.token_count.completion, gen_ai.usage.cache_read.input_tokens /
//                   llm.token_count.prompt_details.cache_read, assay.cost_usd /
//                   llm.cost.total; when R has none, the sum over LLM children
//   finish_reason   first of gen_ai.response.finish_reasons (R, else last LLM child)
//   trace_id, timestamp, latency_ms   OTLP trace id (hex), R's start (RFC 3339), R's end - start
//   error           incomplete_trace (expiry rule); span_error when R's status
//                   is ERROR (status.message, else the "exception" event's
//                   exception.type: exception.message); missing_output when no
//                   span carries an output (output is then null)
// A span is an LLM span when openinference.span.kind is LLM or
// gen_ai.operation.name is chat/text_completion/generate_content (or, with
// neither, it has gen_ai.request.model/gen_ai.system/gen_ai.provider.name/
// llm.model_name); a tool span when openinference.span.kind is TOOL,
// gen_ai.operation.name is execute_tool, or it has gen_ai.tool.name; a
// retriever span when openinference.span.kind is RETRIEVER or it has
// retrieval.documents.*.
//
// Not thread-safe: one owner calls add/take_complete (or guard it with a
// mutex). Pure logic: no clock, no I/O; time is passed in.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "ingest/otlp/mapper.h"

namespace assay {

// Every field states its default; the worker maps them from its config.
struct AssemblerOptions {
    // Quiet time after a trace's last span before it is complete.
    int64_t idle_ms = 2000;
    // A trace whose first span arrived this long ago is returned, incomplete.
    int64_t max_trace_age_ms = 300000;
    // Further spans of a trace are dropped (counted in stats().overflow_spans).
    size_t max_spans_per_trace = 10000;
    // add() refuses a batch that would hold more traces / spans than these.
    size_t max_open_traces = 10000;
    size_t max_open_spans = 200000;
    // Trace ids remembered after they are returned, to drop late spans.
    size_t remember_completed = 10000;
    // Entries in metadata.spans; the rest are counted in spans_omitted.
    size_t max_summary_spans = 64;
    // Retrieved documents copied into "context".
    size_t max_context_docs = 64;
    // Extra metadata keys copied from attributes; the rest are counted.
    size_t max_metadata_keys = 128;
    // Longer metadata strings (and JSON texts of arrays/objects) are cut.
    size_t max_value_bytes = 4096;
};

struct AssembledTrace {
    std::string trace_id;  // the OTLP trace id, 32 lowercase hex digits
    nlohmann::json value;  // one Assay trace as a JSON object (trace_from_json builds the Trace)
    bool complete = true;  // false when returned by the expiry rule
    std::string reason;    // why incomplete; empty when complete
    size_t span_count = 0;
    size_t dropped_spans = 0;  // spans over max_spans_per_trace
};

struct AssemblerStats {
    size_t open_traces = 0;
    size_t open_spans = 0;
    uint64_t completed = 0;        // returned complete
    uint64_t expired = 0;          // returned incomplete
    uint64_t late_spans = 0;       // dropped: their trace was already returned
    uint64_t overflow_spans = 0;   // dropped: over max_spans_per_trace
    uint64_t refused_batches = 0;  // add() returned unavailable or limit_exceeded
};

class TraceAssembler {
public:
    explicit TraceAssembler(AssemblerOptions options = {});

    // Adds one request's spans, received at now_ms. A span whose span id is
    // already held for its trace replaces it (exporter retries). Returns OK;
    // or, with nothing added: unavailable when the batch would open more
    // than max_open_traces traces or hold more than max_open_spans spans
    // given what is already held (answer 503 + Retry-After: it fits later),
    // limit_exceeded when the batch alone exceeds one of those limits
    // (answer 4xx: retrying cannot help). Spans over a trace's
    // max_spans_per_trace and late spans are dropped, counted in stats(),
    // and do not refresh the trace's idle timer.
    Status add(std::vector<OtlpSpan> spans, int64_t now_ms);

    // Removes and returns the traces that are complete at now_ms, then those
    // expired by max_trace_age_ms (see the rules above), in order of first
    // arrival. Returns an empty vector when none is.
    std::vector<AssembledTrace> take_complete(int64_t now_ms);

    // Every span still held, for persisting pending state; re-add() them
    // after a restart to resume.
    std::vector<OtlpSpan> pending_spans() const;

    // True when `trace_id` was returned by take_complete() recently (within
    // remember_completed traces): add() drops its spans as late.
    bool was_returned(const std::string& trace_id) const { return m_recent.count(trace_id) != 0; }

    size_t open_traces() const { return m_traces.size(); }
    size_t open_spans() const { return m_open_spans; }
    AssemblerStats stats() const;
    const AssemblerOptions& options() const { return m_options; }

private:
    struct OpenTrace {
        std::vector<OtlpSpan> spans;
        std::unordered_map<std::string, size_t> index;  // span id → position in spans
        int64_t first_arrival_ms = 0;
        int64_t last_arrival_ms = 0;
        uint64_t sequence = 0;  // order of first arrival
        size_t dropped = 0;
    };

    void remember(const std::string& trace_id);

    AssemblerOptions m_options;
    std::unordered_map<std::string, OpenTrace> m_traces;
    size_t m_open_spans = 0;
    uint64_t m_sequence = 0;
    std::deque<std::string> m_recent_order;
    std::unordered_set<std::string> m_recent;
    AssemblerStats m_stats;
};

// Builds the Assay trace JSON for one group of spans of the same trace (the
// mapping documented in README.md, "OTLP attribute mapping"). `root` indexes
// the root span in `spans` (a bug unless < spans.size()). When
// `incomplete_reason` is non-empty the trace carries error
// {"type": "incomplete_trace", "message": reason}. Attribute values of any
// shape are handled; never throws on span content. Pure.
nlohmann::json build_trace_value(const std::vector<OtlpSpan>& spans, size_t root,
                                 const AssemblerOptions& options,
                                 const std::string& incomplete_reason = {},
                                 size_t dropped_spans = 0);
// The same, as compact JSON text (for tests and tools).
std::string build_trace_json(const std::vector<OtlpSpan>& spans, size_t root,
                             const AssemblerOptions& options,
                             const std::string& incomplete_reason = {}, size_t dropped_spans = 0);

}  // namespace assay
