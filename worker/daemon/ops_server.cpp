#include "daemon/ops_server.h"

#include <httplib.h>

namespace assay {

OpsServer::OpsServer(MetricsFn metrics)
    : m_metrics(std::move(metrics)),
      m_server(std::make_unique<httplib::Server>()),
      m_listener(*m_server) {
    m_server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(m_metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    m_server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("ok\n", "text/plain");
    });
    m_server->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
        if (m_ready.load()) {
            res.set_content("ready\n", "text/plain");
        } else {
            res.status = 503;
            res.set_content("not ready\n", "text/plain");
        }
    });
}

OpsServer::~OpsServer() { stop(); }

Status OpsServer::start(const std::string& listen) { return m_listener.start(listen); }

void OpsServer::stop() { m_listener.stop(); }

}  // namespace assay
