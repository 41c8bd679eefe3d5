#pragma once
// The `subject:` config block: the model `assay gate --prompt` calls to
// generate outputs (README "assay gate", Generate mode). It takes the keys of
// a `judges:` entry (judge_options.h; same parser, same ranges) except
// `name` and `redact`, plus `system` (an optional system message sent before
// every rendered prompt). json_response_format defaults to false here (a
// subject answers in whatever form its prompt asks for).
//
// The subject's name, used for the judge_cache and judge_spend rows it
// writes, is "subject:<model>".
// Pure functions; thread-safe. Never reads the environment.

#include <string>
#include <string_view>

#include "core/status.h"
#include "judge/judge_options.h"

namespace assay {

struct SubjectRuntime {
    JudgeRuntime rt;     // transport, daily budget, cache (redact unused)
    std::string system;  // "" = no system message
};

// invalid_argument naming the key ("subject: key 'max_tokens': expected an
// integer, got \"many\"") for a wrong type, an unknown key, a value out of
// range, or `name` / `redact` (not subject keys).
Result<SubjectRuntime> subject_runtime_from_json(std::string_view config_json);

}  // namespace assay
