#include "core/text.h"
#include "gate/report_pairwise.h"
#include "gate/report_render.h"

namespace assay::gate {

std::string html_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            case '|': out += "&#124;"; break;
            case '`': out += "&#96;"; break;
            case '*': out += "&#42;"; break;
            case '_': out += "&#95;"; break;
            case '[': out += "&#91;"; break;
            case ']': out += "&#93;"; break;
            case '\\': out += "&#92;"; break;
            case '\n':
            case '\r':
            case '\t': out += ' '; break;
            default: out += ch;
        }
    }
    return out;
}

namespace {

std::string value(const ScorerSummary& s, double v) {
    return s.kind == "pass_fail" ? fmt_num(100.0 * v, 1) + "%" : fmt_num(v, 3);
}

}  // namespace

std::string render_markdown(const GateReport& r, size_t max_listed) {
    const Verdict& v = r.verdict;
    std::string out;
    const char* icon = v.result == "pass" ? "✅" : v.result == "block" ? "❌" : "⚠️";
    out += "## " + std::string(icon) + " assay gate: " +
           (v.result == "pass" ? "pass" : v.result == "block" ? "regression, merge blocked" : "error") + "\n\n";
    out += std::to_string(r.cases) + " cases from `" + html_escape(r.dataset_path) + "`; " +
           std::to_string(v.regressed_cases) + " regressed, " + std::to_string(v.improved_cases) +
           " improved (more than " + std::to_string(r.rules.max_regressions) + " regressed cases block).\n\n";
    if (!v.reasons.empty()) {
        for (const auto& reason : v.reasons) {
            out += "- " + html_escape(reason) + "\n";
        }
        out += "\n";
    }
    out += "| scorer | kind | n | baseline | candidate | delta | 95% CI | regressions | improvements | status |\n";
    out += "|---|---|---:|---:|---:|---:|---|---:|---:|---|\n";
    for (const auto& s : v.scorers) {
        const bool pf = s.kind == "pass_fail";
        out += "| " + html_escape(s.scorer) + " | " + s.kind + " | " + std::to_string(s.pairs) + " | " +
               (s.pairs ? value(s, s.baseline) : "-") + " | " + (s.pairs ? value(s, s.candidate) : "-") + " | " +
               (s.pairs ? (pf ? fmt_num(100.0 * s.ci.mean, 1) + " pt" : fmt_num(s.ci.mean, 3)) : "-") + " | " +
               (s.pairs ? "[" + (pf ? fmt_num(100.0 * s.ci.low, 1) : fmt_num(s.ci.low, 3)) + ", " +
                              (pf ? fmt_num(100.0 * s.ci.high, 1) : fmt_num(s.ci.high, 3)) + "]"
                        : "-") +
               " | " + std::to_string(s.regressions) + " | " + std::to_string(s.improvements) + " | " +
               (s.kind == "info" ? "info" : s.blocks.empty() ? "ok" : "**block**") + " |\n";
    }
    out += render_pairwise_markdown(r, max_listed);
    if (!v.regressions.empty()) {
        out += "\n<details open><summary>Regressed cases (" + std::to_string(v.regressed_cases) + ")</summary>\n\n";
        out += "| case | what regressed (baseline → candidate: why) | baseline output | candidate output |\n";
        out += "|---|---|---|---|\n";
        size_t listed = 0;
        for (size_t i = 0; i < v.regressions.size();) {
            const std::string& id = v.regressions[i].case_id;
            if (listed++ == max_listed) {
                out += "\n… more in the JSON report.\n";
                break;
            }
            const CaseChange& first = v.regressions[i];
            std::string what;
            for (; i < v.regressions.size() && v.regressions[i].case_id == id; ++i) {
                const CaseChange& c = v.regressions[i];
                what += (what.empty() ? "" : "<br>") + html_escape(c.scorer + (c.check.empty() ? "" : " " + c.check)) +
                        ": " + html_escape(c.baseline) + " → " + html_escape(c.candidate) + ": " +
                        html_escape(excerpt(c.explanation, 160));
            }
            out += "| " + html_escape(id) + " | " + what + " | " + html_escape(excerpt(first.baseline_excerpt, 160)) +
                   " | " + html_escape(excerpt(first.candidate_excerpt, 160)) + " |\n";
        }
        out += "\n</details>\n";
    }
    return out;
}

}  // namespace assay::gate
