#pragma once
// What both AggregateStore backends share about buckets: their sizes, the
// refresh watermark (its monitor_state key and slack), the dimensions a query
// may group by, and flooring a time to its bucket. Pure: safe from any thread.

#include <cstdint>
#include <string>

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

// The start of the `unit`-long bucket holding `ms` (floors negative times too).
inline int64_t floor_to(int64_t ms, int64_t unit) {
    int64_t q = ms / unit;
    if (ms % unit != 0 && ms < 0) {
        --q;
    }
    return q * unit;
}

}  // namespace assay::aggregate_buckets
