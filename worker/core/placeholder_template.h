#pragma once
// Templates with {{name}} placeholders: the syntax judge rubrics
// (judge/rubric.h) and generate-mode prompts (gate/prompt_template.h) share.
// A placeholder is "{{", optional spaces or tabs, a name of letters, digits,
// '_', '-' and '.', optional spaces or tabs, "}}" ("{{ metadata.lang }}").
// Every "{{" must open a well-formed placeholder with a known name; there is
// no escape. Which names are known, and what they render to, is the
// caller's. Pure functions; thread-safe.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace assay {

struct TemplatePiece {
    bool variable = false;
    std::string text;  // the literal text, or the placeholder's name
    int line = 1;      // 1-based line the piece starts on
};

// Splits `text` into literal pieces and placeholders, in order (adjacent
// literals are never split; an empty text gives no pieces). invalid_argument
// naming the line otherwise:
//   "line 3: '{{' does not start a variable; <help>"  (malformed), or
//   "line 2: unknown variable {{name}}; <help>"       (is_known(name) false).
Result<std::vector<TemplatePiece>> scan_placeholders(
    std::string_view text, const std::function<bool(std::string_view)>& is_known,
    std::string_view help);

// A placeholder name character: [A-Za-z0-9_.-].
bool is_placeholder_name_char(char c);

}  // namespace assay
