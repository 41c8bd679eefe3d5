#pragma once
// Rendering one trace into the prompt an LLM judge sees under a rubric
// (judge/rubric.h loads the rubric): the data blocks, their delimiters and
// nonce, the fixed system message and the reply-format instructions. The
// template variables and injection handling are documented in
// rubrics/README.md; this header states the contracts. All functions are
// pure and thread-safe.

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/trace.h"
#include "judge/rubric.h"

namespace assay {

// Renders the user message for one trace: a fixed preamble that explains
// the data blocks, the rubric's template with each variable replaced by a
// delimited data block, and the reply-format instructions. Deterministic:
// the same rubric and trace always give the same bytes (the judge cache
// relies on it).
//   - missing_input naming the variable when a required variable is absent
//     or blank, e.g. "rubric 'faithfulness' needs {{context}}, which is
//     empty"; also when the output is blank, whatever `required` says:
//     empty outputs are never judged (pairwise: when {{output_a}} or
//     {{output_b}} is blank).
//   - Untrusted text is neutralised (neutralise_delimiters) and fenced by
//     <<<ASSAY_<NAME>_BEGIN id=N>>> ... <<<ASSAY_<NAME>_END id=N>>> lines, where
//     N is a nonce derived from the rubric hash and the trace's rendered
//     values, so content cannot predict it.
Result<std::string> render(const Rubric& rubric, const Trace& trace);

// The fixed system message for every judge call: the blocks are data, and
// the reply is one JSON object only.
std::string_view judge_system_message();

// The reply-format section render() appends, e.g.
//   {"reasoning": "<...>", "score": <a whole number from 1 to 5>}
std::string reply_format_instructions(const Rubric& rubric);

// Breaks every run of three or more '<' or '>' so that no "<<<" or ">>>"
// remains: a space is inserted after every second bracket of a run
// ("<<<" -> "<< <", ">>>>>" -> ">> >> >"). Every other byte is unchanged.
std::string neutralise_delimiters(std::string_view text);

}  // namespace assay
