#include "gate/report_pairwise.h"

#include <algorithm>

#include "core/text.h"
#include "core/text_table.h"
#include "gate/report_render.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

std::string status_of(const PairwiseSummary& s) {
    return s.ignored ? "info" : s.blocks.empty() ? "ok" : "BLOCK";
}

std::vector<std::string> row_of(const PairwiseSummary& s) {
    return {s.scorer,
            std::to_string(s.wins),
            std::to_string(s.ties),
            std::to_string(s.losses),
            std::to_string(s.errors),
            std::to_string(s.order_inconsistent),
            std::to_string(s.identical),
            std::to_string(s.short_circuited),
            std::to_string(s.losses - s.wins) + " (K " + std::to_string(s.max_net_losses) + ")",
            fmt_num(s.sign_test_p, 4)};
}

std::string excerpt_of(const SideResult& side, size_t c) {
    return c < side.cases.size() ? side.cases[c].output_excerpt : std::string();
}

}  // namespace

json pairwise_to_json(const std::vector<PairwiseSummary>& pairwise) {
    json out = json::array();
    for (const auto& s : pairwise) {
        json j;
        j["scorer"] = s.scorer;
        j["version"] = s.version;
        j["rubric"] = s.rubric;
        j["wins"] = s.wins;
        j["ties"] = s.ties;
        j["losses"] = s.losses;
        j["errors"] = s.errors;
        j["judge_errors"] = s.judge_errors;
        j["order_inconsistent"] = s.order_inconsistent;
        j["short_circuited"] = s.short_circuited;
        j["identical"] = s.identical;
        j["filtered_out"] = s.filtered_out;
        j["net_losses"] = s.losses - s.wins;
        j["max_net_losses"] = s.max_net_losses;
        j["sign_test_p"] = s.sign_test_p;
        j["ignored"] = s.ignored;
        j["blocks"] = s.blocks;
        j["cases"] = json::array();
        for (const auto& c : s.cases) {
            j["cases"].push_back({{"id", c.case_id},
                                  {"ab", c.ab},
                                  {"ba", c.ba},
                                  {"outcome", c.outcome},
                                  {"order_inconsistent", c.order_inconsistent},
                                  {"how", c.how},
                                  {"explanation", c.explanation}});
        }
        out.push_back(std::move(j));
    }
    return out;
}

std::string render_pairwise_terminal(const GateReport& r, size_t max_listed) {
    if (r.pairwise.empty()) {
        return "";
    }
    std::vector<std::vector<std::string>> rows = {
        {"pairwise scorer", "wins", "ties", "losses", "errors", "order-inconsistent", "identical",
         "short-circuited", "losses-wins", "sign p", "status"}};
    for (const auto& s : r.pairwise) {
        rows.push_back(row_of(s));
        rows.back().push_back(status_of(s));
    }
    std::string out =
        "\nPairwise (each case judged in both orders; a win or a loss needs both to agree):\n";
    out += format_table(rows);
    for (const auto& s : r.pairwise) {
        size_t listed = 0;
        for (size_t c = 0; c < s.cases.size(); ++c) {
            const PairwiseCase& pc = s.cases[c];
            if (pc.outcome != "loss") {
                continue;
            }
            if (listed == 0) {
                out += "\nLost cases (" + s.scorer + "):\n";
            }
            if (listed++ == max_listed) {
                out += "  ... and more (see --json)\n";
                break;
            }
            out += "  " + pc.case_id + ": " + excerpt(pc.explanation, 240) + "\n";
            out += "    baseline:  " + excerpt(excerpt_of(r.baseline, c), 160) + "\n";
            out += "    candidate: " + excerpt(excerpt_of(r.candidate, c), 160) + "\n";
        }
    }
    return out;
}

std::string render_pairwise_markdown(const GateReport& r, size_t max_listed) {
    if (r.pairwise.empty()) {
        return "";
    }
    std::string out =
        "\n**Pairwise** (each case judged in both orders; a win or a loss needs both orders to "
        "agree, other cases are ties):\n\n";
    out +=
        "| pairwise scorer | wins | ties | losses | errors | order-inconsistent | identical | "
        "short-circuited "
        "| losses − wins | sign p | status |\n";
    out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const auto& s : r.pairwise) {
        auto row = row_of(s);
        row[0] = html_escape(row[0]);
        std::string line = "|";
        for (const auto& cell : row) {
            line += " " + cell + " |";
        }
        const std::string st = status_of(s);
        out += line + " " + (st == "BLOCK" ? std::string("**block**") : st) + " |\n";
    }
    for (const auto& s : r.pairwise) {
        if (s.losses == 0) {
            continue;
        }
        out += "\n<details><summary>Lost cases, " + html_escape(s.scorer) + " (" +
               std::to_string(s.losses) + ")</summary>\n\n";
        out +=
            "| case | judge's reasoning | baseline output | candidate output "
            "|\n|---|---|---|---|\n";
        size_t listed = 0;
        for (size_t c = 0; c < s.cases.size(); ++c) {
            const PairwiseCase& pc = s.cases[c];
            if (pc.outcome != "loss") {
                continue;
            }
            if (listed++ == max_listed) {
                out += "\n… more in the JSON report.\n";
                break;
            }
            out += "| " + html_escape(pc.case_id) + " | " +
                   html_escape(excerpt(pc.explanation, 240)) + " | " +
                   html_escape(excerpt(excerpt_of(r.baseline, c), 160)) + " | " +
                   html_escape(excerpt(excerpt_of(r.candidate, c), 160)) + " |\n";
        }
        out += "\n</details>\n";
    }
    return out;
}

PairwiseJunit render_pairwise_junit(const GateReport& r) {
    PairwiseJunit out;
    for (size_t c = 0; c < r.candidate.cases.size(); ++c) {
        for (const auto& s : r.pairwise) {
            if (s.ignored || c >= s.cases.size()) {
                continue;
            }
            const PairwiseCase& pc = s.cases[c];
            ++out.tests;
            out.body += "    <testcase classname=\"" +
                        xml_escape("assay.gate.pairwise." + s.scorer) + "\" name=\"" +
                        xml_escape(pc.case_id) + "\" time=\"0\">\n";
            if (pc.outcome == "loss") {
                ++out.failures;
                out.body += "      <failure message=\"" +
                            xml_escape(s.scorer + ": the baseline is preferred in both orders") +
                            "\" type=\"pairwise_loss\">" +
                            xml_escape(pc.explanation +
                                       "\nbaseline:  " + excerpt(excerpt_of(r.baseline, c), 300) +
                                       "\ncandidate: " + excerpt(excerpt_of(r.candidate, c), 300)) +
                            "</failure>\n";
            } else if (pc.outcome == "skipped") {
                out.body += "      <skipped message=\"" + xml_escape(pc.explanation) + "\"/>\n";
            } else if (pc.outcome == "error") {
                ++out.errors;
                out.body += "      <error message=\"" + xml_escape(s.scorer + ": not judged") +
                            "\" type=\"judge_error\">" + xml_escape(pc.explanation) + "</error>\n";
            }
            out.body += "    </testcase>\n";
        }
    }
    return out;
}

}  // namespace assay::gate
