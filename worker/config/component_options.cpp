#include "config/component_options.h"

namespace assay {

PipelineSetup pipeline_setup(const Config& cfg) {
    return PipelineSetup{cfg.pipeline, cfg.scorers, cfg.ingest};
}

ZmqIntakeOptions zmq_intake_options(const Config& cfg) {
    ZmqIntakeOptions o;
    o.pull_endpoint = cfg.worker.zmq_pull;
    o.router_endpoint = cfg.worker.zmq_router;
    o.rcvhwm = cfg.worker.zmq_rcvhwm;
    o.max_message_bytes = cfg.worker.zmq_max_message_bytes;
    o.max_traces_per_message = static_cast<uint32_t>(cfg.worker.zmq_max_traces_per_message);
    return o;
}

OtlpIntakeOptions otlp_intake_options(const Config& cfg) {
    OtlpIntakeOptions o;
    o.assembler.idle_ms = cfg.worker.otlp_idle_ms;
    o.assembler.max_trace_age_ms = cfg.worker.otlp_max_wait_ms;
    o.claim_lease_ms = cfg.worker.otlp_claim_lease_ms;
    o.assembler.max_open_bytes = static_cast<size_t>(cfg.worker.otlp_max_pending_bytes);
    o.limits.max_body_bytes = static_cast<size_t>(cfg.worker.otlp_max_body_bytes);
    o.limits.max_depth = cfg.ingest.max_depth;
    o.max_trace_bytes = cfg.ingest.max_trace_bytes;
    return o;
}

}  // namespace assay
