#pragma once
// OpsServer: the worker's operations endpoints over HTTP (core/http_server.h):
//   GET /metrics  Prometheus text format (from the metrics callback)
//   GET /healthz  200 while the process is serving
//   GET /readyz   200 while the worker accepts traffic, 503 while starting
//                 or draining
// Listens on loopback by default; the caller decides the address. Bounded
// like every Assay server (HttpServerOptions); it takes no request body.
// Runs its own threads; start() and stop() from the owner's thread,
// set_ready() from any thread. The metrics callback runs on a connection
// thread and must be thread-safe.

#include <atomic>
#include <functional>
#include <string>

#include "core/http_server.h"
#include "core/status.h"

namespace assay {

class OpsServer {
public:
    using MetricsFn = std::function<std::string()>;
    OpsServer(MetricsFn metrics, HttpServerOptions http);
    ~OpsServer();

    // Binds "HOST:PORT" (PORT 0 picks a free port). io_error names the address.
    Status start(const std::string& listen);
    void stop();
    int port() const { return m_server.port(); }
    void set_ready(bool ready) { m_ready.store(ready); }

private:
    MetricsFn m_metrics;
    HttpServer m_server;
    std::atomic<bool> m_ready{false};
};

}  // namespace assay
