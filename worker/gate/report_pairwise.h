#pragma once
// The pairwise-mode section of each gate output (gate/pairwise.h): the
// renderers in report_*.cpp call these when GateReport::pairwise is not
// empty, so a run without pairwise scorers renders exactly as before.
// Pure functions; thread-safe. Content is escaped as by the host format
// (HTML for Markdown, XML for JUnit).
//  - pairwise_to_json: per scorer, the counts, K, sign-test p, blocks and
//    every case (orders ab/ba, outcome, inconsistency, explanation).
//  - render_pairwise_terminal / render_pairwise_markdown: a table, one row
//    per pairwise scorer (wins, ties, losses, errors, order-inconsistent,
//    identical, short-circuited, net losses vs K, p, status), then the lost cases with
//    excerpts of both outputs and the judge's reasoning.
//  - render_pairwise_junit: one <testcase> per case x pairwise scorer
//    (ignored scorers left out), a <failure> on a loss and an <error> when the
//    case could not be judged.

#include <nlohmann/json.hpp>
#include <string>

#include "gate/gate_report.h"

namespace assay::gate {

nlohmann::json pairwise_to_json(const std::vector<PairwiseSummary>& pairwise);

std::string render_pairwise_terminal(const GateReport& r, size_t max_listed = 20);
std::string render_pairwise_markdown(const GateReport& r, size_t max_listed = 20);

struct PairwiseJunit {
    std::string body;  // <testcase> elements, indented for a <testsuite>
    size_t tests = 0;
    size_t failures = 0;
    size_t errors = 0;
};
PairwiseJunit render_pairwise_junit(const GateReport& r);

}  // namespace assay::gate
