#pragma once
// Structured output as the providers document it (README.md "Structured
// output"): the fake provider's reading and checking of a request's reply
// schema, the verdict a schema-following model writes, and the verdict
// faults a free-text judge makes (which a strict schema rules out).
//   chat completions  response_format {type: json_schema, json_schema:
//                     {name, strict, schema}}
//   Responses API     text.format {type: json_schema, name, strict, schema}
//   Anthropic         tools [{name, input_schema}] + tool_choice {type:
//                     tool, name}; refused together with thinking
// Strict schemas (OpenAI strict: true) must have type object at the root
// and, on every object, additionalProperties false and every property in
// `required`; violations get the provider's 400. Pure functions; thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model_rules.h"

namespace assay::testing {

// How a free-text judge's verdict goes wrong (Behaviour::verdict_faults).
enum class VerdictFault {
    prose,          // no JSON and no score: "The answer is mostly right..."
    cut_json,       // the verdict object cut half-way (finish_reason still stop)
    out_of_scale,   // score max + 4 / a choice that is not a label ("unsure")
    wrong_key,      // the verdict under "rating" instead of score/choice
    score_as_text,  // the score or choice as a word ("high")
    trailing_text,  // the object followed by a sentence (the reply parser copes)
};
const char* to_string(VerdictFault fault);
std::optional<VerdictFault> parse_verdict_fault(const std::string& name);
const std::vector<VerdictFault>& all_verdict_faults();

struct StructuredRequest {
    enum class Mode { none, json_schema, forced_tool };
    Mode mode = Mode::none;
    std::string name;  // the json_schema or tool name
    nlohmann::json schema;
    bool strict = false;  // OpenAI strict: true (Anthropic tools: false)
};

// Reads the request's structured-output part into `out`; a refusal with the
// provider's message when the request is malformed or breaks the strict rules.
std::optional<ParamRefusal> read_structured_request(FakeApi api, const nlohmann::json& body,
                                                    StructuredRequest& out);

// The verdict a model following `schema` writes: every property in order,
// strings (enum: the label at hash % n) and numbers (within minimum..maximum,
// from `score` clamped) filled; `reasoning` for free strings.
nlohmann::json conforming_verdict(const nlohmann::json& schema, int score, std::uint64_t hash,
                                  const std::string& reasoning);

// The reply text of `verdict` (a {"reasoning", "score"|"choice"} object)
// broken by `fault`; `scale_max` is the top of the scale out_of_scale leaves.
std::string apply_verdict_fault(VerdictFault fault, const nlohmann::json& verdict, int scale_max);

// Does `fault` still happen under `mode`? json_schema (strict): never
// (constrained decoding); forced_tool: only value faults (out_of_scale,
// wrong_key, score_as_text), since tool input is always a JSON object but a
// non-strict tool schema is not enforced; none: always.
bool fault_survives(VerdictFault fault, const StructuredRequest& request);

}  // namespace assay::testing
