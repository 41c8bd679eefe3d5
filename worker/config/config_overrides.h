#pragma once
// Precedence: the ASSAY_* environment variables, then the command-line flags,
// override what the file set (README "Configuration": flag > environment >
// file > default). Part of load_config (config.h); this is the only place
// that applies them. Pure functions of their arguments; thread-safe.

#include <map>
#include <string>

#include "config/config.h"

namespace assay {

// ASSAY_DB, ASSAY_SAMPLER_SALT, ASSAY_LOG_LEVEL, ASSAY_LOG_FORMAT,
// ASSAY_MAX_TRACE_BYTES, ASSAY_MAX_DEPTH, ASSAY_BATCH_SIZE and ASSAY_THREADS
// from `env` over `cfg`. invalid_argument naming the variable and its value
// when a number is not an integer in range.
Status apply_environment(const std::map<std::string, std::string>& env, Config& cfg);

// The flags that were given over `cfg` (an empty endpoint flag leaves the
// config's endpoint).
void apply_flags(const ConfigOverrides& flags, Config& cfg);

}  // namespace assay
