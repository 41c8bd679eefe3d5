#pragma once
// Evaluates one alert rule against the aggregates (README "Monitoring",
// "Rule semantics"). Pure with respect to its inputs: the same store
// contents and `now_ms` give the same findings (reproducible with --now).
// Errors: the store's io_error. Not thread-safe (uses the store).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "monitor/alert_config.h"
#include "store/aggregate_store.h"

namespace assay {

enum class FindingState {
    firing,        // condition met with enough data and significance
    ok,            // enough data; condition not met (resolves an open alert)
    insufficient,  // below min_count on a side: neither fires nor resolves
};

const char* to_string(FindingState s);

struct Finding {
    std::string rule;
    RuleKind kind = RuleKind::score_drop;
    std::string group_key;  // "feature=checkout", "" when ungrouped
    std::string tenant;     // the tenant, when grouped by tenant (erasure)
    FindingState state = FindingState::insufficient;
    // Figures that were not measured are nullopt (JSON null, "n/a" in text),
    // never an invented 0 or 1: value with count 0, baseline with no data in
    // the baseline window, p_value when the test had too few observations.
    std::optional<double> value;     // current mean / rate / spend
    std::optional<double> baseline;  // what it is compared with (previous mean, threshold, ...)
    int64_t count = 0;
    int64_t baseline_count = 0;
    std::optional<double> p_value;
    std::string message;  // one line, names scorer, window, figures and group
};

// Windows of scorer rules and of the report end at the start of the hour
// holding now_ms: they cover complete UTC hours only (aggregates are hourly),
// so data after now_ms never counts and a partial hour never adds noise.
// Judge rules use [now - window, now) exactly.
int64_t window_end_ms(int64_t now_ms);

Result<std::vector<Finding>> evaluate_rule(const AlertRule& rule, AggregateStore& store,
                                           int64_t now_ms);

}  // namespace assay
