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
    const size_t tests = rows.size() * static_cast<size_t>(r.cases) + pairwise.tests;
    size_t failures = pairwise.failures;
    std::string body;
    for (size_t c = 0; c < r.candidate.cases.size(); ++c) {
        const std::string& id = r.candidate.cases[c].id;
        for (const auto& scorer : rows) {
            body += "    <testcase classname=\"" + xml_escape("assay.gate." + scorer) +
                    "\" name=\"" + xml_escape(id) + "\" time=\"0\">\n";
            bool failed = false;
            for (const auto& reg : v.regressions) {
                if (reg.case_id != id || reg.scorer != scorer) {
                    continue;
                }
                failures += failed ? 0 : 1;
                failed = true;
                const std::string what = scorer + (reg.check.empty() ? "" : " " + reg.check) +
                                         ": " + reg.baseline + " -> " + reg.candidate;
                body += "      <failure message=\"" + xml_escape(what) + "\" type=\"regression\">" +
                        xml_escape(reg.explanation +
                                   "\nbaseline:  " + excerpt(reg.baseline_excerpt, 300) +
                                   "\ncandidate: " + excerpt(reg.candidate_excerpt, 300)) +
                        "</failure>\n";
            }
            body += "    </testcase>\n";
        }
    }
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<testsuites name=\"assay gate\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
           std::to_string(failures) + "\">\n";
    out += "  <testsuite name=\"" + xml_escape("assay gate: " + r.dataset_path) + "\" tests=\"" +
           std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
           std::to_string((v.result == "error" ? 1 : 0) + pairwise.errors) + "\" timestamp=\"" +
           xml_escape(r.generated_at) + "\">\n";
    out += body + pairwise.body;
    out += "  </testsuite>\n</testsuites>\n";
    return out;
}

}  // namespace assay::gate
