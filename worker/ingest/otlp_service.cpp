#include "ingest/otlp_service.h"

namespace assay {

OtlpIntakeOptions otlp_options(const Config& config) {
    OtlpIntakeOptions o;
    o.assembler.idle_ms = config.worker.otlp_idle_ms;
    o.assembler.max_trace_age_ms = config.worker.otlp_max_wait_ms;
    o.limits.max_body_bytes = static_cast<size_t>(config.worker.otlp_max_body_bytes);
    o.limits.max_depth = config.ingest.max_depth;
    o.max_trace_bytes = config.ingest.max_trace_bytes;
    return o;
}

Result<std::unique_ptr<OtlpService>> OtlpService::open(const Config& config, const std::string& listen) {
    std::unique_ptr<OtlpService> s(new OtlpService());
    auto spans = open_sqlite_span_store(config.store.sqlite_path, config.store.busy_timeout_ms);
    if (!spans.ok()) {
        return spans.status();
    }
    s->m_spans = std::move(*spans);
    OtlpIntakeOptions options = otlp_options(config);
    s->m_intake = std::make_unique<OtlpIntake>(options, *s->m_spans);
    auto restored = s->m_intake->restore();
    if (!restored.ok()) {
        return restored.status();
    }
    s->m_restored = *restored;
    s->m_server = std::make_unique<OtlpHttpServer>(*s->m_intake, options.limits.max_body_bytes);
    if (Status st = s->m_server->start(listen); !st.ok()) {
        return st;
    }
    return s;
}

OtlpService::~OtlpService() { stop(); }

void OtlpService::stop() {
    if (m_server) {
        m_server->stop();
    }
}

std::string OtlpService::bound() const { return m_server->host() + ":" + std::to_string(m_server->port()); }

}  // namespace assay
