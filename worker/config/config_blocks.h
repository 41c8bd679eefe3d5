#pragma once
// The blocks of assay.yaml that config/ reads itself: store, sampler, ingest,
// pipeline, worker, log, judges, subject and gate (scorers are built by
// pipeline/scorer_set.h and monitoring by monitor/alert_config.h). Part of
// load_config (config.h); not used elsewhere. Pure; thread-safe.

#include <string>

#include "config/config.h"
#include "core/config_block.h"

namespace assay {

// Reads each block present under `top` into `cfg` (keys absent keep their
// defaults; paths resolve against `base_dir`). Returns the first block's
// error: invalid_argument naming the block and key, e.g. "worker: key
// 'flush_ms': must be between 1 and 60000" (the caller prefixes the file).
Status parse_config_blocks(ConfigBlock& top, const std::string& base_dir, Config& cfg);

}  // namespace assay
