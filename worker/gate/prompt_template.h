#pragma once
// A generate-mode prompt template (`assay gate --prompt FILE`): text with
// {{input}}, {{context}}, {{reference}} and {{metadata.KEY}} placeholders,
// rendered once per dataset case (README "assay gate", Generate mode).
// The placeholder syntax is core/placeholder_template.h's (the rubrics'):
// spaces inside the braces are allowed ({{ input }}); there is no escape,
// "{{" always opens a placeholder.
//
// Rendering:
//   {{input}}         a plain string as it is; a message list as one
//                     "role: content" line (block) per message, separated by
//                     blank lines;
//   {{context}}       the passages (strings, or objects with "content" or
//                     "text"), each prefixed "[n] ", separated by blank
//                     lines (a string context as it is);
//   {{reference}}     the reference answer;
//   {{metadata.KEY}}  a string as it is; numbers, booleans, lists and objects
//                     in their JSON spelling.
// Fail closed: a template naming an unknown variable, or with an unclosed
// "{{", does not parse (the message names the file and line); a case lacking
// (absent, null or empty) a variable the template uses does not render (the
// message names the case id and the variable). A prompt is never silently
// rendered with a hole in it.
// Plain values and pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/placeholder_template.h"
#include "core/status.h"
#include "gate/dataset.h"

namespace assay::gate {

struct PromptTemplate {
    std::string path;                   // as given on the command line (messages, reports)
    std::string sha256;                 // of the file's bytes (reports, generated traces)
    std::vector<TemplatePiece> pieces;  // core/placeholder_template.h
};

// Parses template text; `path` names it in messages. invalid_argument
// ("prompt 'p.txt' line 3: unknown variable {{foo}}; known: input, context,
// reference, metadata.KEY") on an unknown variable, a malformed placeholder
// ("line 3: '{{' does not start a variable; ..."), or an empty template.
Result<PromptTemplate> parse_prompt_template(std::string_view text, const std::string& path);

// Reads and parses a file; io_error naming the path when it cannot be read.
Result<PromptTemplate> load_prompt_template(const std::string& path);

// The prompt for one case. invalid_argument naming the case id and the
// variable when the case lacks it.
Result<std::string> render_prompt(const PromptTemplate& prompt, const GateCase& c);

}  // namespace assay::gate
