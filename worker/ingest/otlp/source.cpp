#include "ingest/otlp/source.h"

#include <thread>

#include "core/clock.h"

namespace assay {

Result<std::unique_ptr<OtlpSource>> OtlpSource::open(const OtlpIntakeOptions& options,
                                                     const HttpServerOptions& http,
                                                     const StoreOptions& store,
                                                     const std::string& listen,
                                                     const std::string& grpc_listen) {
    std::unique_ptr<OtlpSource> s(new OtlpSource());
    auto spans = open_span_store(store.sqlite_path, store.busy_timeout_ms);
    if (!spans.ok()) {
        return spans.status();
    }
    s->m_spans = std::move(*spans);
    s->m_intake = std::make_unique<OtlpIntake>(options, *s->m_spans);
    auto restored = s->m_intake->restore();
    if (!restored.ok()) {
        return restored.status();
    }
    s->m_restored = *restored;
    if (!listen.empty()) {
        s->m_server =
            std::make_unique<OtlpHttpServer>(*s->m_intake, options.limits.max_body_bytes, http);
        if (Status st = s->m_server->start(listen); !st.ok()) {
            return Status(st.code(), "--otlp-listen: " + st.message());
        }
    }
    if (!grpc_listen.empty()) {
        s->m_grpc = std::make_unique<OtlpGrpcServer>(
            *s->m_intake,
            otlp_grpc_limits(http, options.limits.max_body_bytes, options.max_concurrent_requests));
        if (Status st = s->m_grpc->start(grpc_listen); !st.ok()) {
            return Status(st.code(), "--otlp-grpc-listen: " + st.message());
        }
    }
    return s;
}

OtlpSource::~OtlpSource() {
    if (m_server) {
        m_server->stop();
    }
    if (m_grpc) {
        m_grpc->stop();
    }
}

Status OtlpSource::poll(RecordSink& sink, std::chrono::milliseconds wait) {
    auto submitted = m_intake->pump(sink, now_ms());
    if (!submitted.ok()) {
        return submitted.status();
    }
    if (*submitted == 0 && wait.count() > 0) {
        std::this_thread::sleep_for(wait);
    }
    return {};
}

void OtlpSource::finish() {
    if (m_server) {
        m_server->stop();
    }
    if (m_grpc) {
        m_grpc->stop();
    }
    m_intake->erase_committed();
}

std::string OtlpSource::bound() const {
    return m_server ? m_server->host() + ":" + std::to_string(m_server->port()) : "";
}

std::string OtlpSource::grpc_bound() const {
    return m_grpc ? m_grpc->host() + ":" + std::to_string(m_grpc->port()) : "";
}

std::string OtlpSource::describe() const {
    std::string out;
    if (m_server) {
        out = "otlp=" + bound();
    }
    if (m_grpc) {
        out += std::string(out.empty() ? "" : " ") + "otlp_grpc=" + grpc_bound();
    }
    return out;
}

}  // namespace assay
