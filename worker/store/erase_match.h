#pragma once
// What an erasure (MaintenanceStore::erase) takes besides the rows keyed by
// trace, the same on every backend: which dead letters and which pending OTLP
// spans belong to a user or tenant. Pure functions: safe from any thread.

#include <string>

#include "core/status.h"

namespace assay {

// invalid_argument for an empty id or a field other than "user" / "tenant".
Status check_erase_request(const std::string& field, const std::string& id);

// Whether a dead letter's raw bytes belong to the user (field "user") or
// tenant (field "tenant") `id`: a JSON object with metadata names it in
// metadata.user_id / metadata.tenant; anything else (invalid JSON, cut at the
// size limit, OTLP) holds `id` as a JSON string somewhere.
bool dead_letter_matches(const std::string& raw, const std::string& field, const std::string& id);

// `id` as a JSON string ("..." with escapes): a pending span that holds it
// takes its whole pending trace with it.
std::string json_quoted(const std::string& id);

}  // namespace assay
