#pragma once
// Calibration: how well one scorer (per version) agrees with human labels.
// Built from ReviewStore::calibration_pairs(); pure, thread-safe.
//
// How a label becomes the human's side of a pair:
//   pass/fail  agree -> the scorer's passed; disagree -> the opposite;
//              a "score" label does not count here.
//   choice     agree -> the scorer's label (scores.label); disagree -> the
//              other label when the labelled traces of the version show
//              exactly two, else
//              "not <label>".
//   numeric    "score" -> the reviewer's score; agree -> the scorer's value;
//              disagree has no number and does not count.
// Warnings: fewer than min_labels labels, or kappa (pass/fail, else choice)
// below min_kappa.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "review/agreement.h"
#include "store/review_store.h"

namespace assay::review {

struct CalibrationOptions {
    double min_kappa = 0.6;   // --min-kappa
    int64_t min_labels = 20;  // --min-labels: fewer is "too few labels to tell"
};

struct VersionCalibration {
    std::string scorer, version;
    int64_t labels = 0;
    int64_t pass_fail_pairs = 0, choice_pairs = 0, numeric_pairs = 0;
    std::optional<KappaResult> pass_fail;  // set when there are pass/fail pairs
    std::optional<KappaResult> choice;     // set when there are choice pairs
    std::optional<double> spearman, mae;
    std::vector<std::string> warnings;
};

// One entry per scorer version found in `pairs`, in order of first label.
std::vector<VersionCalibration> calibrate(const std::vector<CalibrationPair>& pairs,
                                          const CalibrationOptions& options);

nlohmann::json to_json(const VersionCalibration& c);
// Human-readable report (for `assay calibrate --format table`).
std::string to_table(const VersionCalibration& c);

}  // namespace assay::review
