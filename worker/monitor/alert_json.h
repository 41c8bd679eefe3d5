#pragma once
// The JSON form of a stored alert, shared by every output that shows one: the
// webhook's `format: json` payload (webhook.cpp, which adds "status") and
// `assay alerts --format json` / `assay alerts check --format json` (which
// add "state" and the delivery fields). Keys: id, rule, kind, group, value,
// baseline, count, baseline_count, p_value, message, fired_at and resolved_at
// (RFC 3339, null while firing). Pure function, thread-safe.

#include <nlohmann/json.hpp>

#include "store/alert_store.h"

namespace assay {

nlohmann::json alert_json(const AlertRecord& alert);

}  // namespace assay
