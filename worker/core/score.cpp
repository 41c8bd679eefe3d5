#include "core/score.h"

namespace assay {

const char* to_string(Decision d) {
    switch (d) {
        case Decision::scored:
            return "scored";
        case Decision::filtered_out:
            return "filtered_out";
        case Decision::sampled_out:
            return "sampled_out";
        case Decision::skipped_missing_input:
            return "skipped_missing_input";
        case Decision::pending:
            return "pending";
        case Decision::skipped_budget:
            return "skipped_budget";
        case Decision::failed:
            return "failed";
    }
    return "failed";
}

}  // namespace assay
