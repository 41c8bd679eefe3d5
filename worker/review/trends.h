#pragma once
// Daily series for the trends page: one per feature, each point with its
// 7-day moving average. Pure functions, thread-safe.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/review_store.h"

namespace assay::review {

struct SeriesPoint {
    std::string day;  // YYYY-MM-DD
    int64_t n = 0;
    double value = 0;  // the day's pass rate, or its mean when the scorer has no pass/fail
    double ma7 = 0;    // mean of `value` over the days with data in [day - 6, day]
};

struct Series {
    std::string feature;
    std::string metric;  // "pass_rate" or "mean"
    std::vector<SeriesPoint> points;
};

// Days since 1970-01-01 for "YYYY-MM-DD"; nullopt when malformed.
std::optional<int64_t> day_number(const std::string& day);

// Groups `points` (sorted by feature, day) into series; computes ma7.
std::vector<Series> build_series(const std::vector<TrendPoint>& points);

nlohmann::json series_json(const std::vector<Series>& series);

}  // namespace assay::review
