#include "core/text.h"
#include "gate/report_pairwise.h"
#include "gate/report_render.h"

namespace assay::gate {

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char ch = static_cast<unsigned char>(s[i]);
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                // XML 1.0 forbids control characters other than tab, LF, CR.
                if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
                    out += "\xEF\xBF\xBD";  // U+FFFD
                } else {
                    out += static_cast<char>(ch);
                }
        }
    }
    return out;
}

std::string render_junit(const GateReport& r) {
    const Verdict& v = r.verdict;
    // The compared rows (info rows are not tests).
    std::vector<std::string> rows;
    for (const auto& s : v.scorers) {
        if (s.kind != "info") {
            rows.push_back(s.scorer);
        }
    }
    const PairwiseJunit pairwise = render_pairwise_junit(r);
    size_t tests = pairwise.tests;
    size_t failures = pairwise.failures;
    size_t errors = pairwise.errors;
    std::string body;
    for (size_t c = 0; c < r.candidate.cases.size(); ++c) {
        const std::string& id = r.candidate.cases[c].id;
        for (const auto& scorer : rows) {
            ++tests;
            body += "    <testcase classname=\"" + xml_escape("assay.gate." + scorer) +
                    "\" name=\"" + xml_escape(id) + "\" time=\"0\">\n";
            // One <failure> per testcase, with every regression of this case
            // and scorer in it (the expect row can have several checks).
            std::vector<const CaseChange*> regs;
            for (const auto& reg : v.regressions) {
                if (reg.case_id == id && reg.scorer == scorer) {
                    regs.push_back(&reg);
                }
            }
            if (!regs.empty()) {
                ++failures;
                std::string message, text;
                for (const CaseChange* reg : regs) {
                    const std::string what = scorer + (reg->check.empty() ? "" : " " + reg->check) +
                                             ": " + reg->baseline + " -> " + reg->candidate;
                    message += (message.empty() ? "" : "; ") + what;
                    text += (regs.size() == 1 ? "" : what + ": ") + reg->explanation + "\n";
                }
                text += "baseline:  " + excerpt(regs.front()->baseline_excerpt, 300) +
                        "\ncandidate: " + excerpt(regs.front()->candidate_excerpt, 300);
                body += "      <failure message=\"" + xml_escape(message) +
                        "\" type=\"regression\">" + xml_escape(text) + "</failure>\n";
            }
            body += "    </testcase>\n";
        }
    }
    if (v.result == "error") {
        // The run itself failed (judge errors, mismatched sides): one testcase
        // carries the error, so the errors attribute counts an element.
        ++tests;
        ++errors;
        std::string reasons;
        for (const auto& reason : v.reasons) {
            reasons += (reasons.empty() ? "" : "\n") + reason;
        }
        body +=
            "    <testcase classname=\"assay.gate\" name=\"verdict\" time=\"0\">\n      <error "
            "message=\"" +
            xml_escape(v.reasons.empty() ? "error" : v.reasons.front()) +
            "\" type=\"gate_error\">" + xml_escape(reasons) + "</error>\n    </testcase>\n";
    }
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<testsuites name=\"assay gate\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
           std::to_string(failures) + "\" errors=\"" + std::to_string(errors) + "\">\n";
    out += "  <testsuite name=\"" + xml_escape("assay gate: " + r.dataset_path) + "\" tests=\"" +
           std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
           std::to_string(errors) + "\" timestamp=\"" + xml_escape(r.generated_at) + "\">\n";
    out += body + pairwise.body;
    out += "  </testsuite>\n</testsuites>\n";
    return out;
}

}  // namespace assay::gate
