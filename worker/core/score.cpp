#include "core/score.h"

namespace assay {

const char* to_string(Decision d) {
    switch (d) {
        case Decision::scored: return "scored";
        case Decision::filtered_out: return "filtered_out";
        case Decision::sampled_out: return "sampled_out";
        case Decision::skipped_missing_input: return "skipped_missing_input";
        case Decision::pending: return "pending";
        case Decision::skipped_budget: return "skipped_budget";
        case Decision::failed: return "failed";
    }
    return "failed";
}

std::optional<Decision> decision_from_string(const std::string& s) {
    for (Decision d : {Decision::scored, Decision::filtered_out, Decision::sampled_out,
                       Decision::skipped_missing_input, Decision::pending,
                       Decision::skipped_budget, Decision::failed}) {
        if (s == to_string(d)) {
            return d;
        }
    }
    return std::nullopt;
}

}  // namespace assay
