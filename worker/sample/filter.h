#pragma once
// Filter: which traces a scorer looks at, by metadata. Built once from
// config; match() is const and thread-safe.
//
// Config forms (all conditions must hold):
//   filter: {feature: [chat, search], environment: prod}   # list = membership
//   filter: ["feature in [chat, search]", "environment == prod",
//            "tenant != internal", "model not in [a, b]"]
//   filter: "environment == prod"
// Keys are metadata keys (feature, tenant, prompt_version, any custom key),
// plus `finish_reason`. A missing key never equals anything (so `!=` and
// `not in` hold for it).

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "core/trace.h"

namespace assay {

struct FilterCondition {
    enum class Op { eq, ne, in, not_in };
    std::string key;
    Op op = Op::eq;
    std::vector<std::string> values;
};

class Filter {
public:
    Filter() = default;
    // Parses the config forms above; the error names `where` and the problem.
    static Result<Filter> parse(const YAML::Node& node, const std::string& where);
    // Parses one expression such as "feature in [chat, search]".
    static Result<FilterCondition> parse_expression(const std::string& expr);

    bool empty() const { return m_conditions.empty(); }
    bool match(const Trace& t) const;
    // The first condition that fails, described for decision records
    // ("metadata.feature is 'billing', not in [chat, search]"); empty if all hold.
    std::string why_not(const Trace& t) const;
    const std::vector<FilterCondition>& conditions() const { return m_conditions; }

private:
    std::vector<FilterCondition> m_conditions;
};

}  // namespace assay
