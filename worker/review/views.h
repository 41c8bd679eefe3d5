#pragma once
// JSON views of review data for the API and the pages: list rows with
// excerpts, and the trace detail (messages by role, pretty-printed JSON
// output, context, metadata, usage, decisions, judgements, labels). The
// browser renders these with textContent only. Pure functions, thread-safe;
// a stored trace that no longer parses still yields a view (with its raw text).
// Trace content keeps the key order it was produced with (ordered_json):
// reviewers see the model's output as it was written, never sorted.

#include <nlohmann/json.hpp>

#include "store/review_store.h"

namespace assay::review {

nlohmann::json list_json(const ReviewList& list, int64_t offset, int64_t limit);
nlohmann::ordered_json trace_json(const TraceDetail& detail);
nlohmann::json label_json(const LabelRecord& l);
// {scorer, version, type, last_seen, scored, pending, judge_calls,
// judge_errors, why_none}: why_none says why a version has no score (its
// judge's pending work and recorded calls), null when it has scores.
nlohmann::json scorer_json(const ScorerSummary& s);
// The sentence behind why_none; empty when the version has scores.
std::string why_no_scores(const ScorerSummary& s);

// JSON text of the output pretty-printed (2 spaces, keys in their original
// order) when `text` is a JSON object or array; nullopt otherwise.
std::optional<std::string> pretty_json(const std::string& text);

}  // namespace assay::review
