#include <cstdio>

#include "core/text.h"
#include "core/text_table.h"
#include "gate/report_pairwise.h"
#include "gate/report_render.h"
#include "gate/verdict_rules.h"

namespace assay::gate {

std::string fmt_num(double v, int precision) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    std::string s = buf;
    return s == "-0.000" || s == "-0.00" || s == "-0.0" ? s.substr(1) : s;
}

std::string summary_value(const ScorerSummary& s, double v) {
    return s.kind == "pass_fail" ? fmt_num(100.0 * v, 1) + "%" : fmt_num(v, 3);
}

std::vector<std::vector<std::string>> rule_rows(const Verdict& v) {
    std::vector<std::vector<std::string>> rows;
    auto row = [&rows](const std::string& scorer, const RuleCheck& c) {
        rows.push_back({scorer, c.rule, c.blocks ? "BLOCK" : "ok", c.p ? verdict_number(*c.p) : "-",
                        c.decided_by, c.measured, c.test});
    };
    if (!v.count_rule.rule.empty()) {
        row("(all cases)", v.count_rule);
    }
    for (const auto& s : v.scorers) {
        for (const auto& c : s.rules) {
            row(s.scorer, c);
        }
    }
    return rows;
}

std::string count_rule_summary(const Verdict& v) {
    const RuleCheck& c = v.count_rule;
    return c.rule.empty()
               ? ""
               : "rule '" + c.rule + "': " + (c.blocks ? "blocks" : "ok") + ", " + c.decided_by;
}

std::string render_terminal(const GateReport& r, size_t max_listed) {
    const Verdict& v = r.verdict;
    std::string out;
    out += "assay gate: " + std::to_string(r.cases) + " cases from " + r.dataset_path + "\n";
    auto origin = [](const SideResult& side) {
        return side.subject.empty() ? side.source
                                    : side.source + " (sha256 " + side.prompt_sha256.substr(0, 12) +
                                          "…, " + side.subject + ")";
    };
    out += "  baseline:  " + origin(r.baseline) + "\n  candidate: " + origin(r.candidate) + "\n\n";
    std::vector<std::vector<std::string>> rows = {{"scorer", "kind", "n", "baseline", "candidate",
                                                   "delta", "95% CI", "regressions", "improvements",
                                                   "status"}};
    for (const auto& s : v.scorers) {
        const bool pf = s.kind == "pass_fail";
        rows.push_back(
            {s.scorer, s.kind, std::to_string(s.pairs),
             s.pairs ? summary_value(s, s.baseline) : "-",
             s.pairs ? summary_value(s, s.candidate) : "-",
             s.pairs ? (pf ? fmt_num(100.0 * s.ci.mean, 1) + " pt" : fmt_num(s.ci.mean, 3)) : "-",
             s.pairs ? "[" + (pf ? fmt_num(100.0 * s.ci.low, 1) : fmt_num(s.ci.low, 3)) + ", " +
                           (pf ? fmt_num(100.0 * s.ci.high, 1) : fmt_num(s.ci.high, 3)) + "]"
                     : "-",
             std::to_string(s.regressions), std::to_string(s.improvements),
             s.kind == "info"   ? "info"
             : s.blocks.empty() ? "ok"
                                : "BLOCK"});
    }
    out += format_table(rows);
    const auto rules = rule_rows(v);
    if (!rules.empty()) {
        out += "\nRules (each rule's test and what decided its verdict):\n";
        std::vector<std::vector<std::string>> with_header = {
            {"scorer", "rule", "verdict", "p", "decided by", "measured", "test"}};
        with_header.insert(with_header.end(), rules.begin(), rules.end());
        out += format_table(with_header);
    }
    out += "\n";
    if (v.result == "pass") {
        out += "PASS: no rule blocks (" + std::to_string(v.regressed_cases) + " regressed cases, " +
               std::to_string(v.improved_cases) + " improved; " + count_rule_summary(v) + ")\n";
    } else {
        out += std::string(v.result == "block" ? "BLOCK" : "ERROR") + ": " +
               std::to_string(v.regressed_cases) + " regressed cases, " +
               std::to_string(v.improved_cases) + " improved\n";
        for (const auto& reason : v.reasons) {
            out += "  - " + reason + "\n";
        }
    }
    if (v.baseline_judge_errors + v.candidate_judge_errors > 0) {
        out += "judge errors: baseline " + std::to_string(v.baseline_judge_errors) +
               ", candidate " + std::to_string(v.candidate_judge_errors) + "\n";
    }
    if (!v.regressions.empty()) {
        out += "\nRegressed cases:\n";
        size_t listed = 0;
        for (size_t i = 0; i < v.regressions.size();) {
            const std::string& id = v.regressions[i].case_id;
            if (listed++ == max_listed) {
                out += "  ... and more (see --json)\n";
                break;
            }
            out += "  " + id + "\n";
            const CaseChange& first = v.regressions[i];
            for (; i < v.regressions.size() && v.regressions[i].case_id == id; ++i) {
                const CaseChange& c = v.regressions[i];
                out += "    " + c.scorer + (c.check.empty() ? "" : " " + c.check) + ": " +
                       c.baseline + " -> " + c.candidate + ": " + excerpt(c.explanation, 200) +
                       "\n";
            }
            out += "    baseline:  " + excerpt(first.baseline_excerpt, 160) + "\n";
            out += "    candidate: " + excerpt(first.candidate_excerpt, 160) + "\n";
        }
    }
    out += render_pairwise_terminal(r, max_listed);
    return out;
}

}  // namespace assay::gate
