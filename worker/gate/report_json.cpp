#include "gate/report_json.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/json_scan.h"
#include "gate/report_pairwise.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// `regressed`: the ids of the regressed cases, whose whole outputs (up to
// k_report_output_bytes) go in "output", with "output_truncated".
json side_json(const SideResult& s, const std::set<std::string>& regressed) {
    json j;
    j["source"] = s.source;
    if (!s.subject.empty()) {
        j["generated"] = {{"prompt_sha256", s.prompt_sha256}, {"subject", s.subject}};
    }
    j["judge_errors"] = s.judge_errors;
    j["cases"] = json::array();
    for (const auto& c : s.cases) {
        json cj;
        cj["id"] = c.id;
        cj["output_excerpt"] = c.output_excerpt;
        if (c.output && regressed.count(c.id) != 0) {
            cj["output"] = *c.output;
            cj["output_truncated"] = c.output_cut;
        }
        json sc = json::object();
        for (size_t i = 0; i < c.scorers.size(); ++i) {
            const auto& o = c.scorers[i];
            json oj;
            oj["decision"] = o.decision;
            oj["value"] = opt(o.value);
            oj["passed"] = o.passed ? json(*o.passed) : json(nullptr);
            oj["label"] = o.label;
            oj["explanation"] = o.explanation;
            sc[s.scorer_names[i]] = oj;
        }
        cj["scorers"] = sc;
        cj["checks"] = json::array();
        for (const auto& k : c.checks) {
            cj["checks"].push_back({{"check", k.check},
                                    {"passed", k.passed},
                                    {"explanation", k.explanation},
                                    {"on_judge", k.on_judge}});
        }
        j["cases"].push_back(cj);
    }
    return j;
}

json change_json(const CaseChange& c) {
    return {{"case_id", c.case_id},
            {"scorer", c.scorer},
            {"check", c.check},
            {"baseline", c.baseline},
            {"candidate", c.candidate},
            {"explanation", c.explanation},
            {"baseline_excerpt", c.baseline_excerpt},
            {"candidate_excerpt", c.candidate_excerpt}};
}

json rule_check_json(const RuleCheck& c) {
    return {{"rule", c.rule},         {"blocks", c.blocks}, {"decided_by", c.decided_by},
            {"measured", c.measured}, {"test", c.test},     {"p", opt(c.p)}};
}

json rules_json(const GateRules& r) {
    json j;
    j["max_regressions"] = r.max_regressions;
    j["count_test"] = r.count_test;
    j["count_alpha"] = r.count_alpha;
    j["mean_drop"] = r.mean_drop;
    j["pass_rate_drop"] = r.pass_rate_drop;
    j["score_drop"] = r.score_drop ? json(*r.score_drop) : json("auto");
    j["bootstrap_resamples"] = r.bootstrap.resamples;
    j["bootstrap_seed"] = r.bootstrap.seed;
    j["confidence"] = r.bootstrap.confidence;
    j["short_circuit"] = r.short_circuit;
    j["allow_judge_errors"] = r.allow_judge_errors;
    json sc = json::object();
    for (const auto& [name, s] : r.scorers) {
        json o;
        o["mean_drop"] = opt(s.mean_drop);
        o["pass_rate_drop"] = opt(s.pass_rate_drop);
        o["score_drop"] = opt(s.score_drop);
        o["max_regressions"] = s.max_regressions ? json(*s.max_regressions) : json(nullptr);
        o["lower_is_better"] = s.lower_is_better;
        o["ignore"] = s.ignore;
        sc[name] = o;
    }
    j["scorers"] = sc;
    return j;
}

}  // namespace

json report_to_json(const GateReport& r) {
    json j;
    j["assay_gate_report"] = k_report_format;
    j["generated_at"] = r.generated_at;
    j["dataset"] = {{"path", r.dataset_path}, {"sha256", r.dataset_sha256}, {"cases", r.cases}};
    j["config"] = {{"source", r.config_source}, {"rules", rules_json(r.rules)}};
    j["scorers"] = json::array();
    for (const auto& s : r.scorers) {
        j["scorers"].push_back(
            {{"name", s.name}, {"type", s.type}, {"version", s.version}, {"judge", s.judge}});
        if (s.pairwise) {
            j["scorers"].back()["pairwise"] = true;
        }
    }
    const Verdict& v = r.verdict;
    json vj;
    vj["result"] = v.result;
    vj["exit_code"] = v.exit_code;
    vj["reasons"] = v.reasons;
    vj["regressed_cases"] = v.regressed_cases;
    vj["improved_cases"] = v.improved_cases;
    vj["sign_test_p"] = v.sign_test_p;
    vj["count_rule"] = v.count_rule.rule.empty() ? json(nullptr) : rule_check_json(v.count_rule);
    vj["judge_errors"] = {{"baseline", v.baseline_judge_errors},
                          {"candidate", v.candidate_judge_errors}};
    j["verdict"] = vj;
    j["summary"] = json::array();
    for (const auto& s : v.scorers) {
        json sj;
        sj["scorer"] = s.scorer;
        sj["kind"] = s.kind;
        sj["pairs"] = s.pairs;
        sj["baseline"] = s.baseline;
        sj["candidate"] = s.candidate;
        sj["delta"] = s.ci.mean;
        sj["ci"] = {s.ci.low, s.ci.high};
        sj["pass_rate"] = s.has_pass_rate ? json({{"baseline", s.baseline_pass_rate},
                                                  {"candidate", s.candidate_pass_rate},
                                                  {"lost", s.pass_lost},
                                                  {"gained", s.pass_gained}})
                                          : json(nullptr);
        sj["score_drop"] = s.kind == "score" ? json(s.score_drop) : json(nullptr);
        sj["regressions"] = s.regressions;
        sj["improvements"] = s.improvements;
        sj["blocks"] = s.blocks;
        sj["rules"] = json::array();
        for (const auto& c : s.rules) {
            sj["rules"].push_back(rule_check_json(c));
        }
        j["summary"].push_back(sj);
    }
    j["regressions"] = json::array();
    for (const auto& c : v.regressions) {
        j["regressions"].push_back(change_json(c));
    }
    j["improvements"] = json::array();
    for (const auto& c : v.improvements) {
        j["improvements"].push_back(change_json(c));
    }
    if (!r.pairwise.empty()) {
        j["pairwise"] = pairwise_to_json(r.pairwise);
    }
    std::set<std::string> regressed;
    for (const auto& c : v.regressions) {
        regressed.insert(c.case_id);
    }
    j["sides"] = {{"baseline", side_json(r.baseline, regressed)},
                  {"candidate", side_json(r.candidate, regressed)}};
    return j;
}

Result<json> read_report_json(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::io_error("cannot read " + what + " '" + path + "': " + std::strerror(errno));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string at = what + " '" + path + "': ";
    const std::string text = ss.str();
    // A report nests about 8 levels; refuse deep nesting before the
    // recursive parser sees it.
    size_t depth = 0, deepest = 0;
    scan_outside_strings(text, 0, [&](size_t, char c) {
        if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            return deepest <= 64;
        }
        if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        return true;
    });
    if (deepest > 64) {
        return Status::invalid_argument(at + "JSON nests deeper than 64 levels; not a gate report");
    }
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return Status::invalid_argument(at + "not a JSON object");
    }
    if (!j.contains("assay_gate_report") || j["assay_gate_report"] != k_report_format) {
        return Status::invalid_argument(at + "not an assay gate report of format " +
                                        std::to_string(k_report_format));
    }
    return j;
}

Result<StoredSide> load_baseline_report(const std::string& path) {
    auto read = read_report_json(path, "baseline report");
    if (!read.ok()) {
        return read.status();
    }
    const json& j = *read;
    const std::string at = "baseline report '" + path + "': ";
    StoredSide out;
    try {
        out.dataset_sha256 = j.at("dataset").at("sha256").get<std::string>();
        for (const auto& s : j.at("scorers")) {
            if (s.value("pairwise", false)) {
                continue;  // no per-side scores (pairwise mode)
            }
            out.scorers.push_back({s.at("name").get<std::string>(), s.at("type").get<std::string>(),
                                   s.at("version").get<std::string>(), s.at("judge").get<bool>()});
            out.side.scorer_names.push_back(out.scorers.back().name);
        }
        const json& side = j.at("sides").at("candidate");
        out.side.side = "baseline";
        out.side.source = "report:" + path;
        out.side.judge_errors = side.at("judge_errors").get<int>();
        for (const auto& cj : side.at("cases")) {
            CaseResult c;
            c.id = cj.at("id").get<std::string>();
            c.output_excerpt = cj.at("output_excerpt").get<std::string>();
            if (cj.contains("output")) {
                c.output = cj.at("output").get<std::string>();
                c.output_cut = cj.value("output_truncated", false);
            }
            for (const auto& name : out.side.scorer_names) {
                const json& oj = cj.at("scorers").at(name);
                ScorerOutcome o;
                o.decision = oj.at("decision").get<std::string>();
                if (!oj.at("value").is_null()) {
                    o.value = oj.at("value").get<double>();
                }
                if (!oj.at("passed").is_null()) {
                    o.passed = oj.at("passed").get<bool>();
                }
                o.label = oj.at("label").get<std::string>();
                o.explanation = oj.at("explanation").get<std::string>();
                c.scorers.push_back(std::move(o));
            }
            for (const auto& kj : cj.at("checks")) {
                c.checks.push_back({kj.at("check").get<std::string>(), kj.at("passed").get<bool>(),
                                    kj.at("explanation").get<std::string>(),
                                    kj.at("on_judge").get<bool>()});
            }
            out.side.cases.push_back(std::move(c));
        }
    } catch (const json::exception& e) {
        return Status::invalid_argument(at + "unexpected layout: " + e.what());
    }
    return out;
}

}  // namespace assay::gate
