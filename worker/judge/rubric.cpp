#include "judge/rubric.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/config_block.h"
#include "core/placeholder_template.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/yaml_keys.h"

namespace assay {

namespace {

constexpr size_t k_max_name_chars = 64;
constexpr size_t k_max_version_chars = 64;
constexpr size_t k_default_version_hex_digits = 12;

bool all_name_chars(std::string_view s) {
    return std::all_of(s.begin(), s.end(), is_placeholder_name_char);
}

bool is_known_variable(std::string_view name) {
    if (name == "input" || name == "output" || name == "reference" || name == "context" ||
        name == "output_a" || name == "output_b") {
        return true;
    }
    constexpr std::string_view k_meta = "metadata.";
    return name.size() > k_meta.size() && name.substr(0, k_meta.size()) == k_meta &&
           all_name_chars(name.substr(k_meta.size()));
}

const char* k_variable_help =
    "write {{input}}, {{output}}, {{reference}}, {{context}} or {{metadata.KEY}} "
    "({{output_a}} and {{output_b}} in a pairwise rubric)";

}  // namespace

Result<std::vector<TemplatePiece>> scan_rubric_template(std::string_view tpl) {
    return scan_placeholders(tpl, is_known_variable, k_variable_help);
}

std::string content_hash(std::string_view file_bytes) { return sha256_hex(file_bytes); }

Result<Rubric> parse_rubric(std::string_view yaml_text, std::string_view source) {
    const std::string where = "rubric '" + std::string(source) + "'";
    try {
        YAML::Node root = YAML::Load(std::string(yaml_text));
        if (Status dup = reject_duplicate_keys(root); !dup.ok()) {
            return Status::invalid_argument(where + ": " + dup.message());
        }
        if (!root.IsMap()) {
            return Status::invalid_argument(
                where + ": expected a mapping with name, prompt, scale and pass_threshold");
        }
        ConfigBlock block(root, where);
        Rubric r;
        r.source = std::string(source);
        r.content_hash = content_hash(yaml_text);

        auto name = block.get_string("name");
        if (!name) {
            block.fail("name", "is required");
        } else if (name->empty() || name->size() > k_max_name_chars || !all_name_chars(*name)) {
            block.fail("name",
                       "must be 1-64 letters, digits, '_', '-' or '.'; got '" + *name + "'");
        } else {
            r.name = *name;
        }

        auto version = block.get_string("version");
        if (version) {
            if (version->empty() || version->size() > k_max_version_chars ||
                !all_name_chars(*version)) {
                block.fail("version",
                           "must be 1-64 letters, digits, '_', '-' or '.'; got '" + *version + "'");
            } else {
                r.version = *version;
            }
        } else {
            r.version = r.content_hash.substr(0, k_default_version_hex_digits);
        }

        r.description = std::string(trim(block.get_string("description").value_or("")));

        if (auto pairwise = block.get_bool("pairwise")) {
            r.pairwise = *pairwise;
        }

        auto prompt = block.get_string("prompt");
        if (!prompt) {
            block.fail(
                "prompt",
                "is required: the template the judge sees, using {{output}} and other variables");
        } else if (trim(*prompt).empty()) {
            block.fail("prompt", "is empty");
        } else {
            auto parts = scan_rubric_template(*prompt);
            if (!parts.ok()) {
                block.fail("prompt", parts.status().message());
            } else {
                r.prompt = *prompt;
                for (const auto& p : *parts) {
                    if (p.variable && std::find(r.variables.begin(), r.variables.end(), p.text) ==
                                          r.variables.end()) {
                        r.variables.push_back(p.text);
                    }
                }
                auto uses = [&r](const char* var) {
                    return std::find(r.variables.begin(), r.variables.end(), var) !=
                           r.variables.end();
                };
                if (r.pairwise) {
                    if (!uses("output_a") || !uses("output_b")) {
                        block.fail("prompt",
                                   "a pairwise rubric must include {{output_a}} and {{output_b}}: "
                                   "the two outputs it compares");
                    } else if (uses("output")) {
                        block.fail("prompt",
                                   "a pairwise rubric compares {{output_a}} and {{output_b}}; "
                                   "{{output}} is not available in it");
                    }
                } else if (uses("output_a") || uses("output_b")) {
                    block.fail("prompt",
                               "{{output_a}} and {{output_b}} are only available in a pairwise "
                               "rubric (pairwise: true)");
                } else if (!uses("output")) {
                    block.fail("prompt", "must include {{output}}: a judge grades an output");
                }
            }
        }

        auto required = block.get_string_list("requires");
        if (required) {
            for (const auto& var : *required) {
                std::string name_only(trim(var));
                if (!is_known_variable(name_only)) {
                    block.fail("requires",
                               "unknown variable '" + var +
                                   "' (use input, output, reference, context or metadata.KEY)");
                    break;
                }
                if (std::find(r.required.begin(), r.required.end(), name_only) !=
                    r.required.end()) {
                    block.fail("requires", "'" + name_only + "' is listed twice");
                    break;
                }
                if (!r.prompt.empty() && std::find(r.variables.begin(), r.variables.end(),
                                                   name_only) == r.variables.end()) {
                    block.fail("requires", "'" + name_only +
                                               "' is required but the prompt never uses {{" +
                                               name_only + "}}");
                    break;
                }
                r.required.push_back(name_only);
            }
        } else {
            r.required = r.variables;
        }

        auto scale_node = block.get_node("scale");
        if (!scale_node) {
            block.fail("scale",
                       "is required: {min: 1, max: 5} or {choices: {A: 1.0, B: 0.5, C: 0.0}}");
        } else {
            r.scale = parse_rubric_scale(block, *scale_node);
            if (r.pairwise) {
                check_pairwise_scale(block, r.scale);
            }
        }

        auto threshold = block.get_double("pass_threshold");
        if (!threshold) {
            if (!block.has("pass_threshold")) {
                block.fail("pass_threshold", "is required: a score >= pass_threshold passes");
            }
        } else {
            r.pass_threshold = *threshold;
            if (scale_node && (*threshold < r.scale.min || *threshold > r.scale.max)) {
                block.fail("pass_threshold", format_scale_number(*threshold) +
                                                 " is outside the scale (" +
                                                 format_scale_number(r.scale.min) + " to " +
                                                 format_scale_number(r.scale.max) + ")");
            }
        }

        r.reply_format = block.get_string("reply_format").value_or("json");
        if (r.reply_format != "json") {
            block.fail("reply_format",
                       "must be json (the only format today); got '" + r.reply_format + "'");
        }

        ASSAY_RETURN_IF_ERROR(block.finish());
        return r;
    } catch (const YAML::Exception& e) {
        return Status::invalid_argument(where + ": YAML error at line " +
                                        std::to_string(e.mark.line + 1) + ", column " +
                                        std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
}

Result<Rubric> load_rubric(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::io_error("rubric '" + path + "': cannot read the file");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        return Status::io_error("rubric '" + path + "': read error");
    }
    return parse_rubric(ss.str(), path);
}

PairPreference pair_preference(const Rubric& rubric, double score) {
    double tie = (rubric.scale.min + rubric.scale.max) / 2.0;
    for (const auto& c : rubric.scale.choices) {
        if (ascii_lower(c.label) == "tie") {
            tie = c.score;
        }
    }
    constexpr double k_eps = 1e-9;
    return score > tie + k_eps   ? PairPreference::a
           : score < tie - k_eps ? PairPreference::b
                                 : PairPreference::tie;
}

}  // namespace assay
