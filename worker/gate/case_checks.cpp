#include "gate/case_checks.h"

#include <re2/re2.h>

#include <algorithm>

#include "core/config_block.h"
#include "core/scorer_registry.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

// Builds a registered scorer from a YAML mapping, as a config entry would be.
Result<std::shared_ptr<const Scorer>> make_scorer(const std::string& type, const YAML::Node& node,
                                                  const std::string& where) {
    const ScorerType* t = ScorerRegistry::instance().find(type);
    if (t == nullptr || t->make == nullptr) {
        return Status::internal("scorer type '" + type + "' is not registered");
    }
    ConfigBlock block(node, where);
    auto made = t->make(block);
    if (!made.ok()) {
        return made.status();
    }
    ASSAY_RETURN_IF_ERROR(block.finish());
    return std::shared_ptr<const Scorer>(std::move(made.value()));
}

std::string short_text(const std::string& s) {
    return s.size() <= 60 ? s : s.substr(0, 57) + "...";
}

}  // namespace

Result<std::shared_ptr<const Scorer>> CheckScorerCache::get(const std::string& type,
                                                            const YAML::Node& node,
                                                            const std::string& where) {
    YAML::Emitter e;
    e << YAML::Flow << node;
    const std::string key = type + "\n" + e.c_str();
    auto it = m_made.find(key);
    if (it != m_made.end()) {
        return it->second;
    }
    auto made = make_scorer(type, node, where);
    if (made.ok()) {
        m_made.emplace(key, *made);
    }
    return made;
}

Result<CaseChecks> CaseChecks::build(const std::string& case_id, const json& expect,
                                     const std::vector<std::string>& scorer_names,
                                     const std::vector<std::string>& judge_names,
                                     CheckScorerCache* cache) {
    CaseChecks out;
    const std::string at = "case '" + case_id + "' expect.";
    auto bad = [&](const std::string& key, const std::string& problem) {
        return Status::invalid_argument(at + key + ": " + problem);
    };
    auto add = [&](const std::string& key, const std::string& name, const std::string& type,
                   const YAML::Node& node, Want want) -> Status {
        auto s =
            cache != nullptr ? cache->get(type, node, at + key) : make_scorer(type, node, at + key);
        if (!s.ok()) {
            return bad(key, s.status().message());
        }
        out.m_checks.push_back({name, std::move(s.value()), want});
        return Status::ok_status();
    };
    std::optional<int64_t> min_words, max_words;
    for (auto it = expect.begin(); it != expect.end(); ++it) {
        const std::string& k = it.key();
        const json& v = it.value();
        if (k == "format") {
            if (!v.is_string() || (v != "json" && v != "text")) {
                return bad(k, "expected \"json\" or \"text\"");
            }
            if (v == "json") {
                YAML::Node n;
                n["json"] = true;
                n["when"] = "all";
                ASSAY_RETURN_IF_ERROR(add(k, "format=json", "format", n, Want::pass));
            }
        } else if (k == "schema") {
            if (!v.is_object() && !v.is_boolean()) {
                return bad(k, "expected a JSON Schema object");
            }
            YAML::Node n;
            n["schema"] = v.dump();
            n["when"] = "all";
            ASSAY_RETURN_IF_ERROR(add(k, "schema", "format", n, Want::pass));
        } else if (k == "refusal") {
            if (!v.is_boolean()) {
                return bad(k, "expected true or false");
            }
            ASSAY_RETURN_IF_ERROR(add(k, v.get<bool>() ? "refusal=true" : "refusal=false",
                                      "refusal", YAML::Node(YAML::NodeType::Map),
                                      v.get<bool>() ? Want::refusal : Want::answer));
        } else if (k == "contains" || k == "not_contains") {
            json list = v.is_string() ? json::array({v}) : v;
            if (!list.is_array() || list.empty()) {
                return bad(k, "expected a string or a non-empty list of strings");
            }
            for (const auto& s : list) {
                if (!s.is_string() || s.get<std::string>().empty()) {
                    return bad(k, "expected non-empty strings");
                }
                YAML::Node n;
                n["regex"] = "(?i)" + RE2::QuoteMeta(s.get<std::string>());
                n["regex_mode"] = "contains";
                ASSAY_RETURN_IF_ERROR(add(k, k + " \"" + short_text(s.get<std::string>()) + "\"",
                                          "format", n,
                                          k == "contains" ? Want::match : Want::no_match));
            }
        } else if (k == "regex") {
            if (!v.is_string() || v.get<std::string>().empty()) {
                return bad(k, "expected a non-empty RE2 pattern");
            }
            YAML::Node n;
            n["regex"] = v.get<std::string>();
            n["regex_mode"] = "contains";
            ASSAY_RETURN_IF_ERROR(add(k, "regex /" + short_text(v.get<std::string>()) + "/",
                                      "format", n, Want::match));
        } else if (k == "min_words" || k == "max_words") {
            if (!v.is_number_integer() || v.get<int64_t>() < 0) {
                return bad(k, "expected a non-negative integer");
            }
            (k == "min_words" ? min_words : max_words) = v.get<int64_t>();
        } else if (k == "min_score") {
            if (!v.is_object() || v.empty()) {
                return bad(k, "expected an object of scorer name to minimum value");
            }
            for (auto s = v.begin(); s != v.end(); ++s) {
                if (std::find(scorer_names.begin(), scorer_names.end(), s.key()) ==
                    scorer_names.end()) {
                    return bad(k + "." + s.key(), "no scorer of this name is configured");
                }
                if (!s.value().is_number()) {
                    return bad(k + "." + s.key(), "expected a number");
                }
                const bool judge =
                    std::find(judge_names.begin(), judge_names.end(), s.key()) != judge_names.end();
                out.m_min_score.push_back({s.key(), s.value().get<double>(), judge});
            }
        } else {
            return bad(
                k,
                "unknown key (expected format, schema, refusal, contains, not_contains, regex, "
                "min_words, max_words, min_score)");
        }
    }
    if (min_words || max_words) {
        if (min_words && max_words && *min_words > *max_words) {
            return bad("min_words", "must be <= max_words");
        }
        YAML::Node n;
        std::string name;
        if (min_words) {
            n["min_words"] = *min_words;
            name = "min_words " + std::to_string(*min_words);
        }
        if (max_words) {
            n["max_words"] = *max_words;
            name +=
                (name.empty() ? "" : ", ") + std::string("max_words ") + std::to_string(*max_words);
        }
        ASSAY_RETURN_IF_ERROR(
            add(min_words ? "min_words" : "max_words", name, "length", n, Want::pass));
    }
    return out;
}

std::vector<CheckResult> CaseChecks::run_code(const Trace& trace) const {
    std::vector<CheckResult> out;
    out.reserve(m_checks.size());
    for (const Check& c : m_checks) {
        CheckResult r;
        r.check = c.name;
        Result<Score> s = score_guarded(*c.scorer, trace);
        if (!s.ok()) {
            r.passed = false;
            r.explanation = s.status().code() == StatusCode::missing_input
                                ? "cannot check: " + s.status().message()
                                : "check failed to run: " + s.status().to_string();
            out.push_back(std::move(r));
            continue;
        }
        switch (c.want) {
            case Want::pass:
                r.passed = s->passed.value_or(false);
                r.explanation = s->explanation;
                break;
            case Want::refusal:
            case Want::answer: {
                const bool refused = s->value >= 0.5;
                r.passed = refused == (c.want == Want::refusal);
                r.explanation =
                    (refused ? "refusal detected: " : "no refusal detected: ") + s->explanation;
                break;
            }
            case Want::match:
                r.passed = s->passed.value_or(false);
                r.explanation = r.passed ? "found" : "not found in the output";
                break;
            case Want::no_match:
                r.passed = !s->passed.value_or(false);
                r.explanation = r.passed ? "not present" : "present in the output";
                break;
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<CheckResult> CaseChecks::run_min_score(
    const std::map<std::string, ScorerValue>& values) const {
    std::vector<CheckResult> out;
    for (const MinScore& m : m_min_score) {
        CheckResult r;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", m.min);
        r.check = "min_score " + m.scorer + ">=" + buf;
        r.on_judge = m.judge;
        auto it = values.find(m.scorer);
        if (it == values.end() || !it->second.value) {
            r.passed = false;
            r.explanation = "no score: " + (it == values.end() ? std::string("scorer not run")
                                                               : it->second.why_not);
        } else {
            r.passed = *it->second.value >= m.min;
            std::snprintf(buf, sizeof buf, "%g", *it->second.value);
            r.explanation = std::string("score ") + buf;
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace assay::gate
