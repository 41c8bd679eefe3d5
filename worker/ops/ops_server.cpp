#include "ops/ops_server.h"

#include <httplib.h>

namespace assay {

Result<std::pair<std::string, int>> parse_listen(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
        return Status::invalid_argument("'" + listen + "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = -1;
    try {
        size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1) {
            port = -1;
        }
    } catch (const std::exception&) {
        port = -1;
    }
    if (port < 0 || port > 65535) {
        return Status::invalid_argument("'" + listen + "': the port must be 0-65535");
    }
    return std::make_pair(host, port);
}

OpsServer::OpsServer(MetricsFn metrics) : m_metrics(std::move(metrics)), m_server(std::make_unique<httplib::Server>()) {
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

Status OpsServer::start(const std::string& listen) {
    auto addr = parse_listen(listen);
    if (!addr.ok()) {
        return addr.status();
    }
    const auto& [host, port] = *addr;
    m_port = port == 0 ? m_server->bind_to_any_port(host) : (m_server->bind_to_port(host, port) ? port : -1);
    if (m_port < 0) {
        return Status::io_error("cannot listen on '" + listen + "' (in use, or not an address of this host)");
    }
    m_thread = std::thread([this] { m_server->listen_after_bind(); });
    return {};
}

void OpsServer::stop() {
    if (m_thread.joinable()) {
        m_server->stop();
        m_thread.join();
    }
}

}  // namespace assay
