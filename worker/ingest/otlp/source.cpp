#include "ingest/otlp/source.h"

#include <thread>

#include "core/clock.h"

namespace assay {

Result<std::unique_ptr<OtlpSource>> OtlpSource::open(const OtlpIntakeOptions& options,
                                                     const StoreOptions& store,
                                                     const std::string& listen) {
    std::unique_ptr<OtlpSource> s(new OtlpSource());
    auto spans = open_sqlite_span_store(store.sqlite_path, store.busy_timeout_ms);
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
    s->m_server = std::make_unique<OtlpHttpServer>(*s->m_intake, options.limits.max_body_bytes);
    ASSAY_RETURN_IF_ERROR(s->m_server->start(listen));
    return s;
}

OtlpSource::~OtlpSource() {
    if (m_server) {
        m_server->stop();
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
    m_server->stop();
    m_intake->erase_committed();
}

std::string OtlpSource::bound() const {
    return m_server->host() + ":" + std::to_string(m_server->port());
}

}  // namespace assay
