#pragma once
// What pairwise mode (gate/pairwise.h) found for one pairwise scorer: per
// case, the judge's preference in each order and the combined outcome, and
// the win/tie/loss counts the verdict rule reads. Part of the GateReport;
// plain values, thread-safe to read.

#include <string>
#include <vector>

namespace assay::gate {

// One case under one pairwise scorer.
struct PairwiseCase {
    std::string case_id;
    // The side the judge preferred in each order: "baseline", "candidate" or
    // "tie"; empty when that order was not judged (short-circuit, error).
    std::string ab;  // A = baseline, B = candidate
    std::string ba;  // A = candidate, B = baseline
    // "win" (both orders prefer the candidate), "loss" (both prefer the
    // baseline), "tie" (anything else), or "error" (an order was not judged:
    // the judge failed or was over budget; counted as judge errors), or
    // "skipped" (out of the scorer's `filter`: not compared).
    std::string outcome;
    // The two orders disagree (e.g. each order prefers whichever output is A):
    // position bias, counted and reported; the case is a tie.
    bool order_inconsistent = false;
    // "judged"; "identical": both outputs are the same text, a tie without a
    // judge call; "short_circuit": a side failed a code check, decided
    // without a judge call (gate.short_circuit); or "filtered_out": out of
    // the scorer's filter.
    std::string how;
    std::string explanation;  // the judge's reasoning per order, or why not judged
};

struct PairwiseSummary {
    std::string scorer;
    std::string version;
    std::string rubric;
    int wins = 0;
    int ties = 0;
    int losses = 0;
    int errors = 0;              // cases with outcome "error"
    int judge_errors = 0;        // failed judge requests (each order counts)
    int order_inconsistent = 0;  // cases whose orders disagree
    int short_circuited = 0;     // cases decided without a call (a code check failed)
    int identical = 0;           // cases with identical outputs: ties without a call
    int filtered_out = 0;        // cases out of the scorer's filter: not compared
    int max_net_losses = 2;      // K: blocks when losses - wins > K ...
    double sign_test_p = 1.0;    // ... and (count_test sign) P(Bin(L+W, 1/2) >= L) <= count_alpha
    bool ignored = false;        // gate.scorers.NAME.ignore: reported, never blocks
    std::vector<std::string> blocks;  // the rule it breaks, if any
    std::vector<PairwiseCase> cases;  // dataset order
};

}  // namespace assay::gate
