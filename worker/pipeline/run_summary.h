#pragma once
// RunSummary: what one run did, per scorer and in total. Built per chunk by
// the scoring threads, merged by the writer after each commit, so it counts
// only what is durably stored. Plain value; not thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/score.h"

namespace assay {

struct ScorerTally {
    std::string scorer;
    std::string version;
    bool is_judge = false;
    int64_t seen = 0;
    int64_t scored = 0;
    double value_sum = 0;
    int64_t passed = 0;
    int64_t failed_check = 0;  // scored with passed == false
    int64_t filtered_out = 0;
    int64_t sampled_out = 0;
    int64_t missing_input = 0;
    int64_t pending = 0;         // sampled for a judge
    int64_t skipped_budget = 0;  // sampled for a judge, but over its budget
    int64_t errors = 0;          // decision failed

    double mean() const { return scored ? value_sum / static_cast<double>(scored) : 0.0; }
    // passed / (passed + failed_check); negative when the scorer has no pass/fail.
    double pass_rate() const;
    void count(Decision d);
    void merge(const ScorerTally& o);
};

struct RunSummary {
    int64_t records = 0;                            // non-blank input records
    int64_t accepted = 0;                           // traces stored
    int64_t rejected = 0;                           // dead-lettered
    std::vector<ScorerTally> scorers;               // in config order
    std::map<std::string, int64_t> reject_reasons;  // first words of the error -> count

    void merge(const RunSummary& o);
};

}  // namespace assay
