#pragma once
// OpsServer: the worker's operations endpoints over HTTP (cpp-httplib):
//   GET /metrics  Prometheus text format (from the metrics callback)
//   GET /healthz  200 while the process is serving
//   GET /readyz   200 while the worker accepts traffic, 503 while starting
//                 or draining
// Listens on loopback by default; the caller decides the address. Runs its
// own thread; start() and stop() from the owner's thread, set_ready() from
// any thread. The metrics callback runs on a server thread and must be
// thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/http_listen.h"
#include "core/status.h"

namespace httplib {
class Server;
}

namespace assay {

class OpsServer {
public:
    using MetricsFn = std::function<std::string()>;
    explicit OpsServer(MetricsFn metrics);
    ~OpsServer();

    // Binds "HOST:PORT" (PORT 0 picks a free port). io_error names the address.
    Status start(const std::string& listen);
    void stop();
    int port() const { return m_listener.port(); }
    void set_ready(bool ready) { m_ready.store(ready); }

private:
    MetricsFn m_metrics;
    std::unique_ptr<httplib::Server> m_server;
    HttpListener m_listener;
    std::atomic<bool> m_ready{false};
};

}  // namespace assay
