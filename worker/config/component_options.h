#pragma once
// Each component's own options struct, filled from a loaded Config: the one
// place that knows which config keys feed which component. Pure functions.
// A returned PipelineSetup refers to `cfg.scorers`: `cfg` must outlive it.

#include "config/config.h"
#include "ingest/otlp/intake.h"
#include "ingest/zmq_intake.h"
#include "pipeline/pipeline_options.h"

namespace assay {

PipelineSetup pipeline_setup(const Config& cfg);
ZmqIntakeOptions zmq_intake_options(const Config& cfg);
OtlpIntakeOptions otlp_intake_options(const Config& cfg);

}  // namespace assay
