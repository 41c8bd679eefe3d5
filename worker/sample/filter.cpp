#include "sample/filter.h"

#include <cctype>
#include <optional>

#include "core/text.h"

namespace assay {

namespace {

std::optional<std::string> lookup(const Trace& t, const std::string& key) {
    if (key == "finish_reason") {
        if (t.finish_reason.empty()) {
            return std::nullopt;
        }
        return t.finish_reason;
    }
    return t.metadata.get(key);
}

bool holds(const FilterCondition& c, const Trace& t) {
    auto v = lookup(t, c.key);
    bool member = false;
    if (v) {
        for (const auto& want : c.values) {
            if (*v == want) {
                member = true;
                break;
            }
        }
    }
    switch (c.op) {
        case FilterCondition::Op::eq:
        case FilterCondition::Op::in:
            return member;
        case FilterCondition::Op::ne:
        case FilterCondition::Op::not_in:
            return !member;
    }
    return false;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
        s += (i ? ", " : "") + v[i];
    }
    return s;
}

std::string unquote(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 &&
        ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\''))) {
        s = s.substr(1, s.size() - 2);
    }
    return std::string(s);
}

bool valid_key(const std::string& k) {
    if (k.empty()) {
        return false;
    }
    for (char c : k) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

}  // namespace

Result<FilterCondition> Filter::parse_expression(const std::string& expr) {
    auto bad = [&](const std::string& why) {
        return Status::invalid_argument(
            "filter '" + expr + "': " + why +
            " (expected KEY == V, KEY != V, KEY in [A, B] or KEY not in [A, B])");
    };
    FilterCondition c;
    std::string_view s = trim(expr);
    size_t p = std::string::npos;
    std::string_view rhs;
    if ((p = s.find("==")) != std::string::npos) {
        c.op = FilterCondition::Op::eq;
        rhs = s.substr(p + 2);
    } else if ((p = s.find("!=")) != std::string::npos) {
        c.op = FilterCondition::Op::ne;
        rhs = s.substr(p + 2);
    } else if ((p = s.find(" not in ")) != std::string::npos) {
        c.op = FilterCondition::Op::not_in;
        rhs = s.substr(p + 8);
    } else if ((p = s.find(" in ")) != std::string::npos) {
        c.op = FilterCondition::Op::in;
        rhs = s.substr(p + 4);
    } else {
        return bad("no operator");
    }
    c.key = std::string(trim(s.substr(0, p)));
    if (!valid_key(c.key)) {
        return bad("bad key '" + c.key + "'");
    }
    rhs = trim(rhs);
    if (c.op == FilterCondition::Op::in || c.op == FilterCondition::Op::not_in) {
        if (rhs.size() < 2 || rhs.front() != '[' || rhs.back() != ']') {
            return bad("the list must be written [A, B]");
        }
        rhs = rhs.substr(1, rhs.size() - 2);
        size_t start = 0;
        while (start <= rhs.size()) {
            size_t comma = rhs.find(',', start);
            std::string item = unquote(
                rhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (!item.empty()) {
                c.values.push_back(item);
            }
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
        if (c.values.empty()) {
            return bad("empty list");
        }
    } else {
        std::string v = unquote(rhs);
        if (v.empty()) {
            return bad("missing value");
        }
        c.values.push_back(v);
    }
    return c;
}

Result<Filter> Filter::parse(const YAML::Node& node, const std::string& where) {
    Filter f;
    if (!node || node.IsNull()) {
        return f;
    }
    if (node.IsScalar()) {
        auto c = parse_expression(node.Scalar());
        if (!c.ok()) {
            return Status::invalid_argument(where + ": " + c.status().message());
        }
        f.m_conditions.push_back(*c);
        return f;
    }
    if (node.IsSequence()) {
        for (const auto& item : node) {
            if (!item.IsScalar()) {
                return Status::invalid_argument(where +
                                                ": each filter item must be an expression string");
            }
            auto c = parse_expression(item.Scalar());
            if (!c.ok()) {
                return Status::invalid_argument(where + ": " + c.status().message());
            }
            f.m_conditions.push_back(*c);
        }
        return f;
    }
    if (node.IsMap()) {
        for (const auto& kv : node) {
            FilterCondition c;
            c.key = kv.first.as<std::string>();
            if (!valid_key(c.key)) {
                return Status::invalid_argument(where + ": bad key '" + c.key + "'");
            }
            if (kv.second.IsScalar()) {
                c.op = FilterCondition::Op::eq;
                c.values.push_back(kv.second.Scalar());
            } else if (kv.second.IsSequence()) {
                c.op = FilterCondition::Op::in;
                for (const auto& v : kv.second) {
                    if (!v.IsScalar()) {
                        return Status::invalid_argument(where + "." + c.key +
                                                        ": list items must be strings");
                    }
                    c.values.push_back(v.Scalar());
                }
            } else {
                return Status::invalid_argument(where + "." + c.key +
                                                ": expected a value or a list of values");
            }
            f.m_conditions.push_back(std::move(c));
        }
        return f;
    }
    return Status::invalid_argument(where +
                                    ": expected a mapping, an expression or a list of expressions");
}

bool Filter::match(const Trace& t) const {
    for (const auto& c : m_conditions) {
        if (!holds(c, t)) {
            return false;
        }
    }
    return true;
}

std::string Filter::why_not(const Trace& t) const {
    for (const auto& c : m_conditions) {
        if (holds(c, t)) {
            continue;
        }
        auto v = lookup(t, c.key);
        std::string have = v ? "'" + *v + "'" : "missing";
        std::string name = c.key == "finish_reason" ? c.key : "metadata." + c.key;
        switch (c.op) {
            case FilterCondition::Op::eq:
                return name + " is " + have + ", filter wants == " + c.values[0];
            case FilterCondition::Op::ne:
                return name + " is " + have + ", filter wants != " + c.values[0];
            case FilterCondition::Op::in:
                return name + " is " + have + ", filter wants one of [" + join(c.values) + "]";
            case FilterCondition::Op::not_in:
                return name + " is " + have + ", filter excludes [" + join(c.values) + "]";
        }
    }
    return {};
}

}  // namespace assay
