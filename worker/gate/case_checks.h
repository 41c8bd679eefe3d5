#pragma once
// CaseChecks: the `expect` block of one dataset case turned into checks.
// Every check reuses a registered code scorer (built through the scorer
// registry, exactly as a config entry would be) rather than re-implementing
// it:
//   format: json        -> format scorer {json: true}
//   schema: {...}       -> format scorer {schema: ...}
//   refusal: true|false -> refusal scorer (value 1 = refusal) must say so
//   contains: [s, ...]  -> format scorer {regex: (?i)<s quoted>, regex_mode: contains}
//   not_contains: [...] -> the same, which must not match
//   regex: r            -> format scorer {regex: r, regex_mode: contains}
//   min_words/max_words -> length scorer {min_words, max_words}
//   min_score: {S: x}   -> the configured scorer S's value on this side >= x
// Built once per case at startup (unknown expect keys and wrong types are
// errors naming the case and key); run() is const and thread-safe.

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/scorer.h"
#include "core/status.h"
#include "core/trace.h"

namespace assay::gate {

struct CheckResult {
    std::string check;  // stable name, e.g. "format=json", "contains \"refund\""
    bool passed = false;
    std::string explanation;  // what was found
    bool on_judge = false;    // a min_score check on a judge scorer
};

// A configured scorer's result for this case on one side, as min_score sees it.
struct ScorerValue {
    std::optional<double> value;  // set when scored
    std::string why_not;          // when not scored: the decision and reason
};

// Scorers built for expect checks, shared by every case whose check has the
// same type and settings: a scorer is immutable once made, and making one can
// be costly (the refusal scorer compiles its pattern set; a schema is parsed).
// One thread at a time.
class CheckScorerCache {
public:
    // The scorer for (type, settings), made on first use. `where` names the
    // check in error messages.
    Result<std::shared_ptr<const Scorer>> get(const std::string& type, const YAML::Node& node,
                                              const std::string& where);

private:
    std::map<std::string, std::shared_ptr<const Scorer>> m_made;  // "type\n" + settings as YAML
};

class CaseChecks {
public:
    // `expect` is the case's expect object; `scorer_names` the configured
    // scorers (min_score may only name those); `judge_names` those that are
    // judges. invalid_argument: "case 'x' expect.min_words: expected an integer".
    // `cache` (optional) shares identical check scorers between cases.
    static Result<CaseChecks> build(const std::string& case_id, const nlohmann::json& expect,
                                    const std::vector<std::string>& scorer_names,
                                    const std::vector<std::string>& judge_names,
                                    CheckScorerCache* cache = nullptr);

    // Runs the checks that need only the output (everything but min_score).
    std::vector<CheckResult> run_code(const Trace& trace) const;
    // Runs the min_score checks against this side's scorer values.
    std::vector<CheckResult> run_min_score(const std::map<std::string, ScorerValue>& values) const;
    bool empty() const { return m_checks.empty() && m_min_score.empty(); }

private:
    enum class Want { pass, refusal, answer, match, no_match };
    struct Check {
        std::string name;
        std::shared_ptr<const Scorer> scorer;
        Want want = Want::pass;
    };
    struct MinScore {
        std::string scorer;
        double min = 0.0;
        bool judge = false;
    };
    std::vector<Check> m_checks;
    std::vector<MinScore> m_min_score;
};

}  // namespace assay::gate
