#pragma once
// Renders the worker's counters in the Prometheus text exposition format
// (version 0.0.4) for GET /metrics. Pure function; thread-safe.

#include <string>

#include "pipeline/pipeline.h"

namespace assay {

// The pipeline's families (committed traces, rejections, decisions, commit
// latency); each trace source renders its own.
std::string render_prometheus(const Pipeline::Metrics& pipeline);

}  // namespace assay
