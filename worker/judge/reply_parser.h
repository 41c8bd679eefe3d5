#pragma once
// Turns a judge's reply text into a verdict under a rubric. The reply format
// (rubrics/README.md, "Reply format") is one JSON object with the reasoning
// before the score:
//   numeric scale: {"reasoning": "...", "score": 4}
//   choice scale:  {"reasoning": "...", "choice": "A"}
// Parsing tries, in order:
//   strict   - the whole reply (surrounding whitespace ignored) is that object;
//   fenced   - the last ```json (or bare ```) fenced block that holds such an
//              object;
//   fallback - the last {...} object embedded in the text that has the key;
//              else the reply ends with `score: 4` / `"score": 4` /
//              `**Score:** 4/5` / `choice: A` (key case-insensitive, quotes,
//              '*' and a trailing '}' tolerated; found by RE2), and the text
//              before it is the reasoning.
// Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "core/status.h"
#include "judge/rubric.h"

namespace assay {

enum class ReplyParse { strict, fenced, fallback };
const char* to_string(ReplyParse how);

struct JudgeVerdict {
    // In the rubric's units: the number given (numeric scales) or the score
    // the chosen label maps to (choice scales).
    double score = 0.0;
    // Choice scales: the rubric's label the judge chose (its own spelling in
    // the rubric, whatever case the judge used). Empty for numeric scales.
    std::string choice;
    std::string reasoning;
    // score >= rubric.pass_threshold, computed by Assay: any "pass"/"verdict"
    // words or keys in the reply are ignored.
    bool passed = false;
    ReplyParse parsed_as = ReplyParse::strict;
};

// Longest reply accepted (bytes); longer replies are a parse error.
inline constexpr size_t k_max_judge_reply_bytes = 256 * 1024;

// Parses `reply`. On failure returns invalid_argument with a message that
// says what was wrong, e.g. "judge reply: score 7 is outside the scale 1-5
// (whole numbers)", "judge reply: unknown choice 'D' (expected one of: A, B,
// C)", "judge reply: no score found". A failed parse is never a score: the
// caller retries once, then records a judge error.
Result<JudgeVerdict> parse_reply(const Rubric& rubric, std::string_view reply);

}  // namespace assay
