#pragma once
// The structured verdict: the JSON schema of the reply a rubric asks for
// (rubrics/README.md, "Reply format"), sent to providers that support
// structured output (JudgeOptions::structured_output) so that a reply
// outside the rubric cannot come back:
//   numeric scale: {"reasoning": string, "score": integer (or number when
//                   the scale allows fractions), minimum scale.min,
//                   maximum scale.max}
//   choice scale:  {"reasoning": string, "choice": one of the labels (enum)}
// In strict form: additionalProperties false, every property required,
// reasoning first (the model writes its reasons before its verdict). The
// reply parser (reply_parser.h) still checks every reply: a server that
// ignores the schema is caught there. Pure functions; thread-safe.

#include <string>

#include "judge/rubric.h"
#include "llm/judge_client.h"

namespace assay {

// The schema's name as sent (json_schema.name / the Anthropic tool name).
inline constexpr const char* k_verdict_schema_name = "verdict";

// The schema for `rubric`'s scale, as compact JSON text.
std::string verdict_schema(const Rubric& rubric);

// Sets request.reply_schema / reply_schema_name for `rubric` when the
// judge asks for structured output; leaves the request as it is otherwise.
void attach_verdict_schema(JudgeRequest& request, const JudgeOptions& judge, const Rubric& rubric);

}  // namespace assay
