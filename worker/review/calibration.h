#pragma once
// Calibration: how well one scorer (per version) agrees with human labels.
// Built from ReviewStore::calibration_pairs() and the version's scored traces
// per verdict (ReviewStore::verdict_strata()); pure apart from
// calibrate_scorer(), thread-safe.
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
//
// What is reported, and when it is not:
//   by verdict  per verdict of the scorer (fail, pass, none): agree labels
//               out of agree/disagree labels, with a 95% Wilson interval.
//               On "fail" this is the precision of the failures the scorer
//               flags; the bottom list's labels count (it lists failures).
//   agreement   the share of the version's scored traces a reviewer would
//               agree with: from calibration-queue labels only (a random
//               sample within each verdict), each verdict's rate weighted by
//               its share of the scored traces; 95% Wilson interval on the
//               effective sample size 1 / sum(w^2 / n). Not measured while a
//               verdict with scored traces has no queue label (bottom-list
//               labels are not a random sample).
//   kappa       only when the scorer and the reviewers each used two
//               categories or more (else it is 0 or 0/0 whatever the
//               agreement), with the reason when not.
// Warnings: fewer than min_labels labels, kappa (pass/fail, else choice)
// below min_kappa, or kappa not defined.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "review/agreement.h"
#include "store/review_store.h"

namespace assay::review {

struct CalibrationOptions {
    double min_kappa = 0.6;   // --min-kappa
    int64_t min_labels = 20;  // --min-labels: fewer is "too few labels to tell"
};

// agree of labels, with its rate and 95% Wilson interval (nullopt: no labels).
struct Proportion {
    int64_t agree = 0, labels = 0;
    std::optional<double> rate;
    std::optional<Interval> ci95;
};

struct VerdictAgreement {
    std::string verdict;  // the scorer's: fail | pass | none
    int64_t scored = 0;   // the version's scored traces with this verdict
    double share = 0;     // scored / all scored traces of the version
    Proportion all;       // every agree/disagree label on such traces
    Proportion queue;     // the calibration queue's labels only
};

struct AgreementEstimate {
    std::optional<double> value;  // nullopt: not measured (see not_measured)
    std::optional<Interval> ci95;
    int64_t labels = 0;           // calibration-queue labels used
    double effective_labels = 0;  // 1 / sum(w^2 / n)
    std::string not_measured;     // why there is no value
};

struct VersionCalibration {
    std::string scorer, version;
    int64_t labels = 0;
    int64_t queue_labels = 0;  // of them, from the calibration queue
    int64_t pass_fail_pairs = 0, choice_pairs = 0, numeric_pairs = 0;
    std::vector<VerdictAgreement>
        by_verdict;  // fail, pass, none: those with scored traces or labels
    AgreementEstimate agreement;
    std::optional<KappaResult> pass_fail;  // set when there are pass/fail pairs
    std::optional<KappaResult> choice;     // set when there are choice pairs
    std::optional<double> spearman, mae;
    std::vector<std::string> warnings;

    // The "fail" entry of by_verdict: the precision of flagged failures.
    const VerdictAgreement* failures() const;
};

// One entry per scorer version found in `pairs`, in order of first label.
// `strata`: the scored traces per verdict of those versions (a version
// missing here gets no agreement estimate).
std::vector<VersionCalibration> calibrate(const std::vector<CalibrationPair>& pairs,
                                          const std::vector<VersionStrata>& strata,
                                          const CalibrationOptions& options);

// Reads the labels of `scorer` (one version, or all when empty) and the
// scored traces per verdict of each labelled version, then calibrate().
// Errors: the store's.
Result<std::vector<VersionCalibration>> calibrate_scorer(ReviewStore& store,
                                                         const std::string& scorer,
                                                         const std::string& scorer_version,
                                                         const CalibrationOptions& options);

nlohmann::json to_json(const VersionCalibration& c);
// Human-readable report (for `assay calibrate --format table`).
std::string to_table(const VersionCalibration& c);

}  // namespace assay::review
