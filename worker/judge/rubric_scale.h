#pragma once
// A rubric's scale: how a judge's answer maps to a score, parsed from the
// rubric's `scale:` mapping (rubrics/README.md, "Scales"). Part of loading a
// rubric (judge/rubric.h). A RubricScale is a plain immutable value once
// parsed; the functions are pure and thread-safe.

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/config_block.h"

namespace assay {

// How a judge's answer maps to a score.
struct RubricScale {
    enum class Kind { numeric, choices };
    struct Choice {
        std::string label;  // as written in the rubric, e.g. "grounded" or "A"
        double score = 0.0;
    };

    Kind kind = Kind::numeric;
    // numeric: the inclusive bounds of the score. choices: the lowest and
    // highest score any choice maps to.
    double min = 0.0;
    double max = 0.0;
    // numeric only: the judge must reply with a whole number (default true).
    bool integer = true;
    // choices only: in file order.
    std::vector<Choice> choices;

    // "1-5" / "1-5 (whole numbers)" / "grounded, partially_grounded, ungrounded".
    std::string describe() const;
};

// Parses a rubric's `scale:` node. Every problem is recorded on `block`
// (the rubric's ConfigBlock) under a "scale.*" key naming it, e.g.
// "scale.max: must be greater than scale.min (5)"; the scale returned then
// is incomplete and must not be used (block.finish() fails).
RubricScale parse_rubric_scale(ConfigBlock& block, const YAML::Node& node);

// For a pairwise rubric: records a "scale" / "scale.choices" problem on
// `block` unless the scale is choices labelled exactly A, B and tie
// (case-insensitive), scored A > tie > B.
void check_pairwise_scale(ConfigBlock& block, const RubricScale& scale);

// "1", "0.5", "-2": the shortest exact-enough spelling of a scale number, as
// rubric errors, prompts and judge-reply errors write it.
std::string format_scale_number(double v);

}  // namespace assay
