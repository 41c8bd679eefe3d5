#pragma once
// assembled_record: one assembled OTLP trace as the record the pipeline
// takes (pipeline/evaluate.h RawRecord): mapped if it is not yet
// (map_assembled), printed once as compact JSON (the stored raw form), and
// built into a Trace from the value (core/trace_sax.h), never re-parsed.
//
// A trace whose text is longer than max_trace_bytes becomes an oversized
// record (text cut to the limit, full_bytes the length); one that does not
// build (a bug of the mapping) a rejected record holding its text and the
// reason: the pipeline dead-letters both. Consumes the trace's value and
// spans. Pure: safe on several threads at once, each with its own trace.

#include <cstddef>
#include <cstdint>

#include "ingest/otlp/trace_assembler.h"
#include "pipeline/evaluate.h"

namespace assay {

// The source of every assembled record (RawRecord::source), whichever door
// its spans came by; also the OTLP/HTTP doors' dead letters' source.
inline constexpr char k_otlp_http_source[] = "otlp:http";

RawRecord assembled_record(AssembledTrace& trace, int64_t now_ms, const AssemblerOptions& options,
                           size_t max_trace_bytes);

}  // namespace assay
