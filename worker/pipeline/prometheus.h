#pragma once
// Renders the worker's counters in the Prometheus text exposition format
// (version 0.0.4) for GET /metrics. Pure function; thread-safe.

#include <string>

#include "pipeline/pipeline.h"

namespace assay {

struct IntakeCounters {
    uint64_t messages = 0;
    uint64_t traces = 0;
    uint64_t bad_frames = 0;
    uint64_t acks_sent = 0;
    uint64_t pending_acks = 0;
};

std::string render_prometheus(const Pipeline::Metrics& pipeline, const IntakeCounters& intake);

}  // namespace assay
