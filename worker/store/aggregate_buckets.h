#pragma once
// What both AggregateStore backends share about buckets: their sizes, the
// refresh watermark (its monitor_state key and slack), the dimensions a query
// may group by (and the check of them), and flooring times to their buckets. Pure: safe from any
// thread.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay::aggregate_buckets {

constexpr int64_t k_hour = 3600000;
constexpr int64_t k_day = 86400000;
// refresh() re-reads this far behind its watermark (batches committed late).
constexpr int64_t k_slack_ms = 10 * 60000;
constexpr const char* k_watermark_key = "aggregates_watermark_ms";

// feature | tenant | prompt_version | model (column names of aggregates).
inline bool valid_dim(const std::string& d) {
    return d == "feature" || d == "tenant" || d == "prompt_version" || d == "model";
}

// invalid_argument naming the first of `by` that valid_dim() refuses.
inline Status check_group_by(const std::vector<std::string>& by) {
    for (const auto& d : by) {
        if (!valid_dim(d)) {
            return Status::invalid_argument("cannot group by '" + d +
                                            "': expected feature, tenant, prompt_version or model");
        }
    }
    return {};
}

// The start of the `unit`-long bucket holding `ms` (floors negative times too).
inline int64_t floor_to(int64_t ms, int64_t unit) {
    int64_t q = ms / unit;
    if (ms % unit != 0 && ms < 0) {
        --q;
    }
    return q * unit;
}

// The hour buckets holding these times, once each, in order.
inline std::set<int64_t> hours_of(const std::vector<int64_t>& ts_ms) {
    std::set<int64_t> hours;
    for (int64_t t : ts_ms) {
        hours.insert(floor_to(t, k_hour));
    }
    return hours;
}

}  // namespace assay::aggregate_buckets
