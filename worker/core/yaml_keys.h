#pragma once
// Duplicate keys in a YAML mapping. yaml-cpp keeps every pair of
// `store: {...}` written twice and a lookup silently answers with the first,
// so the second block would be ignored without a word. The config loader
// (config/config.h), judge files and rubrics (judge/rubric.h) refuse such a
// file instead. Pure; thread-safe.

#include <yaml-cpp/yaml.h>

#include "core/status.h"

namespace assay {

// OK when no mapping anywhere under `root` has a key twice. Else
// invalid_argument naming the first repeated key, where it is, and where it
// was first: "line 7: key 'store' appears twice in the same mapping (first
// at line 2); write it once". Lines count from 1. Keys compare as their
// scalar text; non-scalar keys are not compared.
Status reject_duplicate_keys(const YAML::Node& root);

}  // namespace assay
