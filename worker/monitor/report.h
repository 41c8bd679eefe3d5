#pragma once
// `assay report`: the quality/cost picture of a period and the one before
// it (README "Monitoring", "assay report"), built from the aggregates.
// build_report() reads the store (errors: its io_error); rendering is pure.
// Not thread-safe (uses the store).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/aggregate_store.h"

namespace assay {

struct ReportOptions {
    int64_t now_ms = 0;
    int64_t period_ms = 7 * 86400000LL;  // --since: the current period; the previous one is as long
    std::string by;                      // "" | feature | tenant | prompt_version | model
    int top = 5;                         // rows in the worst/top lists
};

struct ReportRow {
    std::string scorer, scorer_version, group;
    int64_t count = 0, prev_count = 0;
    double mean = 0;
    std::optional<double> prev_mean;
    std::optional<double> pass_rate, prev_pass_rate;
    int64_t seen = 0, in_scope = 0, sampled = 0;
    double estimated_scored = 0;  // count scaled by in_scope / sampled
};

struct CostRow {
    std::string tenant;
    double cost_usd = 0;
    int64_t calls = 0, input_tokens = 0, output_tokens = 0;
};

struct HealthRow {
    std::string scorer, scorer_version;
    int64_t sampled = 0, scored = 0, skipped = 0, errors = 0, pending = 0, judge_calls = 0,
            judge_errors = 0;
    double judge_cost_usd = 0;
};

struct Report {
    int64_t from_ms = 0, to_ms = 0, prev_from_ms = 0;
    std::optional<DataRange> data;  // where the store has data (any time)
    std::string by;
    std::vector<ReportRow> rows;            // per scorer version x group
    std::vector<ReportRow> worst_features;  // lowest pass rate (else mean) first
    std::vector<ReportRow> worst_prompt_versions;
    std::vector<CostRow> top_tenants_by_cost;
    std::vector<HealthRow> health;  // judge error and skip rates
};

Result<Report> build_report(AggregateStore& store, const ReportOptions& options);

// When the period holds no data: one line naming the range read and where
// the store's data is, with the flags that report on it, e.g. "no scored
// traces in 2026-12-01T10:00:00.000Z .. 2026-12-08T10:00:00.000Z; the store
// holds traces from ... to ...: use --now ... --since 8d". Empty otherwise.
std::string empty_period_hint(const Report& report);

// format: table | json | markdown. Figures that were not measured (the mean
// of 0 scores, a pass rate without pass/fail scores) are "n/a" in text and
// null in JSON.
std::string render_report(const Report& report, const std::string& format);

}  // namespace assay
