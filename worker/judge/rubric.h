#pragma once
// Rubrics for LLM judges: loading and validating a rubric YAML file (its
// scale: judge/rubric_scale.h; rendering a trace into the prompt a judge
// sees: judge/rubric_render.h). The schema is documented in
// rubrics/README.md; this header states the contracts.
//
// A Rubric is a plain immutable value once loaded: safe to share and read
// from several threads. All functions here are pure (no I/O except
// load_rubric reading its file) and thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/placeholder_template.h"
#include "core/status.h"
#include "judge/rubric_scale.h"

namespace assay {

struct Rubric {
    std::string name;
    // `version:` from the file, else the first 12 hex digits of content_hash.
    std::string version;
    // SHA-256 (hex, 64 digits) of the file's exact bytes. Store it with every
    // judgement: any edit to the file changes it, even when `version` is set.
    std::string content_hash;
    std::string description;
    // The template, with {{input}}, {{output}}, {{reference}}, {{context}} and
    // {{metadata.KEY}} placeholders (whitespace inside the braces allowed).
    std::string prompt;
    // Variables that must be present and non-empty before a judge is called,
    // spelled as in the template without braces: "input", "context",
    // "metadata.tenant". Default: every variable the template uses.
    std::vector<std::string> required;
    // Every distinct variable the template uses, in order of first use.
    std::vector<std::string> variables;
    RubricScale scale;
    // A verdict passes iff score >= pass_threshold (within the scale).
    double pass_threshold = 0.0;
    // Always "json" today: see reply_format_instructions().
    std::string reply_format = "json";
    // Where the rubric came from (a path, or what the caller passed).
    std::string source;
    // `pairwise: true`: the rubric compares two outputs for the same input,
    // {{output_a}} and {{output_b}} (both required, {{output}} not allowed),
    // on a `choices` scale with exactly the labels A, B and tie scored
    // A > tie > B. Only `assay gate` runs a pairwise rubric (pairwise mode):
    // it renders a pair trace whose reserved metadata keys
    // k_pair_output_a_key / k_pair_output_b_key hold the two outputs.
    bool pairwise = false;
};

// The reserved metadata keys {{output_a}} and {{output_b}} render from.
inline constexpr std::string_view k_pair_output_a_key = "assay_pair_output_a";
inline constexpr std::string_view k_pair_output_b_key = "assay_pair_output_b";

// What a pairwise rubric's score says: A preferred (score above the tie
// choice's score), B preferred (below), or a tie. An ensemble's mean maps the
// same way. Only meaningful for a rubric with pairwise = true.
enum class PairPreference { a, b, tie };
PairPreference pair_preference(const Rubric& rubric, double score);

// Parses and validates a rubric. `source` names the file in messages.
// On failure returns invalid_argument whose message names the file and the
// key, e.g. "rubric 'rubrics/x.yaml': key 'scale.max': expected a number,
// got 'five'" or "rubric 'rubrics/x.yaml': unknown key 'treshold'".
Result<Rubric> parse_rubric(std::string_view yaml_text, std::string_view source);

// Reads `path` and parses it (source = path). io_error when unreadable.
Result<Rubric> load_rubric(const std::string& path);

// SHA-256 hex of a rubric file's bytes (what Rubric::content_hash holds).
std::string content_hash(std::string_view file_bytes);

// The pieces of a rubric template: literals and the variables it uses. Fails
// (invalid_argument) when a "{{" does not start a well-formed, known variable
// ({{input}}, {{output}}, {{reference}}, {{context}}, {{metadata.KEY}}, and
// {{output_a}} / {{output_b}}), naming it and its line.
Result<std::vector<TemplatePiece>> scan_rubric_template(std::string_view tpl);

}  // namespace assay
