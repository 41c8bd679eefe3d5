#include "judge/rubric_scale.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "core/placeholder_template.h"
#include "core/text.h"

namespace assay {

namespace {

constexpr size_t k_max_choice_label_chars = 32;

std::optional<double> yaml_number(const YAML::Node& n) {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
        return std::nullopt;
    }
    return v;
}

std::string yaml_spelling(const YAML::Node& n) {
    if (n.IsScalar()) {
        return "'" + n.Scalar() + "'";
    }
    if (n.IsSequence()) {
        return "a list";
    }
    if (n.IsMap()) {
        return "a mapping";
    }
    return "nothing";
}

}  // namespace

std::string format_scale_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
}

std::string RubricScale::describe() const {
    if (kind == Kind::choices) {
        std::string out;
        for (const auto& c : choices) {
            out += (out.empty() ? "" : ", ") + c.label;
        }
        return out;
    }
    return format_scale_number(min) + "-" + format_scale_number(max) +
           (integer ? " (whole numbers)" : "");
}

RubricScale parse_rubric_scale(ConfigBlock& block, const YAML::Node& node) {
    RubricScale scale;
    if (!node.IsMap()) {
        block.fail(
            "scale",
            "expected a mapping: {min: 1, max: 5} or {choices: {A: 1.0, B: 0.5, C: 0.0}}, got " +
                yaml_spelling(node));
        return scale;
    }
    std::optional<YAML::Node> min_node;
    std::optional<YAML::Node> max_node;
    std::optional<YAML::Node> integer_node;
    std::optional<YAML::Node> choices_node;
    for (const auto& kv : node) {
        const std::string key = kv.first.as<std::string>();
        if (key == "min") {
            min_node = kv.second;
        } else if (key == "max") {
            max_node = kv.second;
        } else if (key == "integer") {
            integer_node = kv.second;
        } else if (key == "choices") {
            choices_node = kv.second;
        } else {
            block.fail("scale." + key, "unknown key (a scale has min, max, integer, or choices)");
            return scale;
        }
    }
    if (choices_node) {
        scale.kind = RubricScale::Kind::choices;
        if (min_node || max_node || integer_node) {
            block.fail("scale", "give either choices or min/max, not both");
            return scale;
        }
        if (!choices_node->IsMap() || choices_node->size() < 2) {
            block.fail("scale.choices",
                       "expected a mapping of two or more labels to scores, e.g. "
                       "{A: 1.0, B: 0.5, C: 0.0}");
            return scale;
        }
        std::set<std::string> seen_lower;
        for (const auto& kv : *choices_node) {
            const std::string label = kv.first.as<std::string>();
            const std::string key = "scale.choices." + label;
            if (label.empty() || label.size() > k_max_choice_label_chars ||
                !std::all_of(label.begin(), label.end(), is_placeholder_name_char)) {
                block.fail(key, "a choice label is 1-32 letters, digits, '_', '-' or '.'");
                return scale;
            }
            if (!seen_lower.insert(ascii_lower(label)).second) {
                block.fail(key, "duplicate choice label (labels are matched case-insensitively)");
                return scale;
            }
            auto score = yaml_number(kv.second);
            if (!score) {
                block.fail(key, "expected a number, got " + yaml_spelling(kv.second));
                return scale;
            }
            scale.choices.push_back({label, *score});
        }
        auto [lo, hi] =
            std::minmax_element(scale.choices.begin(), scale.choices.end(),
                                [](const auto& a, const auto& b) { return a.score < b.score; });
        scale.min = lo->score;
        scale.max = hi->score;
        if (scale.min == scale.max) {
            block.fail("scale.choices",
                       "every choice maps to the same score; nothing could fail or pass");
        }
        return scale;
    }
    scale.kind = RubricScale::Kind::numeric;
    if (!min_node || !max_node) {
        block.fail(min_node ? "scale.max" : "scale.min",
                   "is required for a numeric scale, e.g. {min: 1, max: 5}");
        return scale;
    }
    auto lo = yaml_number(*min_node);
    if (!lo) {
        block.fail("scale.min", "expected a number, got " + yaml_spelling(*min_node));
        return scale;
    }
    auto hi = yaml_number(*max_node);
    if (!hi) {
        block.fail("scale.max", "expected a number, got " + yaml_spelling(*max_node));
        return scale;
    }
    if (integer_node) {
        if (!integer_node->IsScalar() ||
            !YAML::convert<bool>::decode(*integer_node, scale.integer)) {
            block.fail("scale.integer",
                       "expected true or false, got " + yaml_spelling(*integer_node));
            return scale;
        }
    }
    scale.min = *lo;
    scale.max = *hi;
    if (!(scale.min < scale.max)) {
        block.fail("scale.max",
                   "must be greater than scale.min (" + format_scale_number(scale.min) + ")");
        return scale;
    }
    if (scale.integer &&
        (std::floor(scale.min) != scale.min || std::floor(scale.max) != scale.max)) {
        block.fail("scale",
                   "an integer scale needs whole-number min and max; set integer: false for a "
                   "continuous scale");
    }
    return scale;
}

void check_pairwise_scale(ConfigBlock& block, const RubricScale& scale) {
    const char* want =
        "a pairwise rubric needs a choices scale with exactly the labels A, B and tie, "
        "scored A > tie > B, e.g. {choices: {A: 1.0, tie: 0.5, B: 0.0}}";
    if (scale.kind != RubricScale::Kind::choices || scale.choices.size() != 3) {
        block.fail("scale", want);
        return;
    }
    std::optional<double> a, b, tie;
    for (const auto& c : scale.choices) {
        const std::string l = ascii_lower(c.label);
        if (l == "a") {
            a = c.score;
        } else if (l == "b") {
            b = c.score;
        } else if (l == "tie") {
            tie = c.score;
        }
    }
    if (!a || !b || !tie) {
        block.fail("scale.choices", want);
    } else if (!(*a > *tie && *tie > *b)) {
        block.fail("scale.choices", "scores must order A > tie > B (A prefers the first output)");
    }
}

}  // namespace assay
