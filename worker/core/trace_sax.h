#pragma once
// Streaming (SAX) construction of a Trace from JSON text: the text is read
// once, straight into the Trace's fields, without building a JSON document
// (only unknown metadata keys keep their JSON values). Used by
// trace_json.h, which applies the size and depth limits first, and by the
// OTLP intake (ingest/otlp/intake.h), which consumes the value it assembled.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "core/status.h"
#include "core/trace.h"

namespace assay {

// Fills `out` from `text` (the trace contract in README.md "Trace format").
// Returns invalid_argument naming the field for a missing required field, or
// the field and the value read for a wrong one ("got -5"), or "invalid
// JSON: …" saying what was found where for a syntax error (ill-formed UTF-8
// included); the fast reader and nlohmann's parser give the same messages. The caller must have
// bounded the nesting depth. `out.raw` is not set. Never throws.
Status build_trace(std::string_view text, int64_t received_ms, Trace& out);
// Same, from a JSON value already in memory (its events are replayed into
// the same builder, so the contract and messages are the same).
Status build_trace(const nlohmann::json& value, int64_t received_ms, Trace& out);
// Same, consuming `value`: its strings move into the Trace and the objects
// and arrays of unknown metadata keys move into metadata.extra whole, instead
// of being copied (the OTLP assembler's trace is read once). Afterwards
// `value` is valid but unspecified, on failure too.
Status build_trace(nlohmann::json&& value, int64_t received_ms, Trace& out);

}  // namespace assay
