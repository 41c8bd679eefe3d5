#include "ingest/otlp/trace_record.h"

#include <utility>

#include "core/json_text.h"
#include "core/trace_sax.h"

namespace assay {

RawRecord assembled_record(AssembledTrace& t, int64_t now_ms, const AssemblerOptions& options,
                           size_t max_trace_bytes) {
    map_assembled(t, options);
    RawRecord r;
    r.source = k_otlp_http_source;
    r.received_ms = now_ms;
    // Printed once (the stored raw form), then the value is read once into
    // the Trace, its strings and metadata values moved, not copied.
    std::string text = json_text(t.value);
    Trace trace;
    trace.received_ms = now_ms;
    const Status built = build_trace(std::move(t.value), now_ms, trace);
    if (built.ok() && text.size() <= max_trace_bytes) {
        trace.raw = std::move(text);
        r.trace = std::move(trace);
    } else if (built.ok()) {
        r.full_bytes = text.size();
        r.text = std::move(text);
        r.oversized = true;
        r.text.resize(max_trace_bytes);
    } else {
        // The assembler always builds a valid trace; keep what it built as a
        // dead letter with the reason if it ever does not.
        r.text = std::move(text);
        r.full_bytes = r.text.size();
        r.reject = built.message();
        if (r.text.size() > max_trace_bytes) {
            r.text.resize(max_trace_bytes);
        }
    }
    return r;
}

}  // namespace assay
