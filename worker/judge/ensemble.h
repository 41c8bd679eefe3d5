#pragma once
// Combines the verdicts of a judge ensemble into one score (README "Judges",
// Ensembles). Pure functions; thread-safe.
//   mean     - arithmetic mean of the judges' scores;
//   median   - the median (mean of the two middle scores for an even count);
//   majority - the most frequent score (for choice scales: the most chosen
//              label); a tie goes to the LOWER score, so a split ensemble
//              never rounds a verdict up.
// `passed` is always value >= rubric.pass_threshold, computed here, never
// taken from a judge's words. `disagreement` is max - min of the judges'
// scores in rubric units (0 for one judge or full agreement).

#include <string>
#include <vector>

#include "judge/judge_scorer_spec.h"
#include "judge/reply_parser.h"

namespace assay {

struct EnsembleMember {
    std::string judge;
    JudgeVerdict verdict;
};

struct EnsembleResult {
    double value = 0.0;
    bool passed = false;
    double disagreement = 0.0;
    std::string label;  // the agreed or majority choice (choice scales), else "pass"/"fail"
    std::string
        explanation;  // e.g. "mean of 2 judges: primary=4, claude=2; disagreement (max-min) 2"
};

// `members` must not be empty (internal error otherwise).
Result<EnsembleResult> aggregate_verdicts(const Rubric& rubric, JudgeAggregate how,
                                          const std::vector<EnsembleMember>& members);

}  // namespace assay
