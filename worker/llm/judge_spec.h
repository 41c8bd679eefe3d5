#pragma once
// JudgeSpec: one LLM endpoint as configured (a `judges:` entry, or the
// `subject:` block of `assay gate --prompt`). config/ builds it from YAML;
// judge/judge_options.h and judge/subject_options.h turn its config_json
// into client options. A plain value.

#include <string>

namespace assay {

struct JudgeSpec {
    std::string name;
    std::string provider;  // openai | anthropic
    std::string model;
    std::string config_json;
};

}  // namespace assay
