#include "daemon/ops_server.h"

namespace assay {

namespace {

HttpServerOptions without_body(HttpServerOptions o) {
    o.max_body_bytes = 0;  // GET only: any body is refused (413)
    return o;
}

}  // namespace

OpsServer::OpsServer(MetricsFn metrics, HttpServerOptions http)
    : m_metrics(std::move(metrics)), m_server(without_body(http)) {
    m_server.get("/metrics", [this](const HttpRequest&, HttpResponse& res) {
        res.set_content(m_metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    m_server.get("/healthz", [](const HttpRequest&, HttpResponse& res) {
        res.set_content("ok\n", "text/plain");
    });
    m_server.get("/readyz", [this](const HttpRequest&, HttpResponse& res) {
        if (m_ready.load()) {
            res.set_content("ready\n", "text/plain");
        } else {
            res.status = 503;
            res.set_content("not ready\n", "text/plain");
        }
    });
}

OpsServer::~OpsServer() { stop(); }

Status OpsServer::start(const std::string& listen) { return m_server.start(listen); }

void OpsServer::stop() { m_server.stop(); }

}  // namespace assay
