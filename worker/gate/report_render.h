#pragma once
// Renders a GateReport for people and CI tools. Pure functions; thread-safe.
//  - render_terminal: the per-scorer table (baseline, candidate, delta, CI,
//    regressions, improvements), every rule with its test, p-value and what
//    decided it, the verdict and its reasons, then each regressed case with
//    excerpts of both outputs and the explanation.
//  - render_markdown: the same for a PR comment or $GITHUB_STEP_SUMMARY.
//    All trace content is HTML-escaped (and `|` too, inside tables), so an
//    output cannot inject markup into the PR page.
//  - render_junit: JUnit XML, one <testcase> per case × compared scorer
//    (the "expect" row included; info-only scorers left out), with a
//    single <failure> when the case regressed on that row, holding every
//    regression (e.g. several expect checks); an error verdict adds one
//    testcase with an <error>, so the counts match the elements. Content is XML-escaped and
//    characters XML 1.0 forbids are replaced.
// Each file implements one of them (report_terminal.cpp, report_markdown.cpp,
// report_junit.cpp).

#include <string>
#include <vector>

#include "gate/gate_report.h"

namespace assay::gate {

std::string render_terminal(const GateReport& r, size_t max_listed = 20);
std::string render_markdown(const GateReport& r, size_t max_listed = 20);
std::string render_junit(const GateReport& r);

// Helpers shared by the renderers.
std::string fmt_num(double v, int precision);
// A scorer row's baseline or candidate figure: "92.5%" (pass_fail) or
// "4.125".
std::string summary_value(const ScorerSummary& s, double v);
// Every rule the verdict applied (rule 1 first as scorer "(all cases)", then
// each row's rules): {scorer, rule, "ok"|"BLOCK", p or "-", decided by,
// measured, test}.
std::vector<std::vector<std::string>> rule_rows(const Verdict& v);
// "rule 'regressed cases': ok, p = 0.0107 > 0.01" ("" on an error verdict).
std::string count_rule_summary(const Verdict& v);
// Text for a Markdown table cell (PR comments): HTML special characters,
// Markdown syntax and pipes escaped, line breaks as spaces, and @mentions,
// #123 references and URLs from trace output neutralised with a zero-width
// space so a comment never pings, links or cross-references.
std::string html_escape(const std::string& s);
std::string xml_escape(const std::string& s);

}  // namespace assay::gate
