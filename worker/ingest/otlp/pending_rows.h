#pragma once
// pending_rows: how the OTLP intake stores the spans of an export request in
// the SpanStore (store/span_store.h) before it answers: one row per trace of
// the request, holding that trace's spans of the request (in the request's
// order) as one OTLP JSON ExportTraceServiceRequest. A request of twenty
// three-span traces is twenty rows, not sixty: each row costs an insert, a
// delete and an index entry, whatever its size (README "OTLP receiver").
//
// Row keys (PendingSpanRow::span_id, unique within a trace): the span id for
// a row of one span (as every row before schema migration 14), else
// pending_group_key() of the row's span ids. An exporter's retry of the same
// request gives the same rows and keys, so its upsert replaces them; spans
// stored twice under different keys (a retry batched otherwise) are merged by
// span id when the trace is assembled (the later copy wins, as on arrival).
//
// Pure functions: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/otlp/mapper.h"
#include "store/span_store.h"

namespace assay {

// "g" followed by 15 lowercase hex digits of a 64-bit FNV-1a hash of the ids,
// sorted and joined (so the order of the spans does not change the key):
// the width of a span id, never equal to one (a span id has no 'g').
std::string pending_group_key(std::vector<std::string_view> span_ids);

// The rows for `spans` (decoded from one request), received at now_ms, in the
// order their traces first appear in the request.
std::vector<PendingSpanRow> pending_rows(const std::vector<OtlpSpan>& spans, int64_t now_ms);

}  // namespace assay
