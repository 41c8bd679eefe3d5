#pragma once
// What the gate knows about one side (baseline or candidate) after scoring:
// per case, every configured scorer's outcome and every expect check. This is
// also what a JSON report stores and what --baseline-report reads back.
// Plain values; thread-safe to read.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "gate/case_checks.h"

namespace assay::gate {

// The most of one output a CaseResult (and so a JSON report) keeps.
constexpr size_t k_report_output_bytes = 64 * 1024;

// One configured scorer on one case. `decision` is a decision name of the
// store ("scored", "filtered_out", "skipped_missing_input", "failed",
// "skipped_budget") or one of the gate's own: "skipped_short_circuit" (a
// judge not run because a code check already failed on this side) and
// "judge_error" (the judge stage returned an error for this case).
struct ScorerOutcome {
    std::string decision;
    std::optional<double> value;
    std::optional<bool> passed;
    std::string label;
    std::string explanation;  // the scorer's explanation, or why it was not scored
};

struct CaseResult {
    std::string id;
    std::string output_excerpt;  // first 300 bytes of the output (for reports)
    // The output itself, at most k_report_output_bytes (cut on a UTF-8
    // boundary; output_cut says so). The JSON report carries it for the
    // regressed cases, for `assay review`'s side-by-side diff; a baseline read
    // back from a report has it only for the cases that report had regressed
    // (nullopt for the others).
    std::optional<std::string> output;
    bool output_cut = false;
    std::vector<ScorerOutcome> scorers;  // in SideResult::scorer_names order
    std::vector<CheckResult> checks;     // expect checks, in build order
};

struct SideResult {
    std::string side;    // "baseline" | "candidate"
    std::string source;  // the outputs file, "report:<path>", or "prompt:<path>" (generate mode)
    // Generate mode: the prompt file's SHA-256 and the subject ("subject:<model>").
    std::string prompt_sha256;
    std::string subject;
    std::vector<std::string> scorer_names;  // config order
    std::vector<CaseResult> cases;          // dataset order
    int judge_errors = 0;
};

}  // namespace assay::gate
