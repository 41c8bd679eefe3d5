#pragma once
// ReviewServer: the `assay review` web app over cpp-httplib: binding, the
// access checks every request passes first (rules in access.h), the pages
// and the login; the JSON API's routes are in api_routes.h. Pages (list,
// trace, calibration, trends, login) are static HTML + one JS file + one CSS
// file embedded in the binary; the JS fills them from the JSON API with
// textContent only. Every response carries a strict Content-Security-Policy
// (no inline script), nosniff and no-framing headers.
//
// Thread-safety: handlers run on httplib's worker threads and share the
// ReviewStore (which serialises its calls). start()/stop() from one thread.

#include <memory>
#include <string>

#include "core/http_listen.h"
#include "core/status.h"
#include "review/access.h"
#include "store/review_store.h"

namespace httplib {
class Server;
}

namespace assay::review {

struct ReviewServerOptions {
    std::string token;        // --token / ASSAY_REVIEW_TOKEN; empty: no login (loopback only)
    double min_kappa = 0.6;   // --min-kappa: the calibration page's bar
    int64_t min_labels = 20;  // --min-labels
    int64_t max_page = 500;   // the largest `limit` the list API accepts
};

class ReviewServer {
public:
    // `store` must outlive the server.
    ReviewServer(ReviewStore& store, ReviewServerOptions options);
    ~ReviewServer();

    // Binds "HOST:PORT" (PORT 0 picks a free one). invalid_argument for a
    // non-loopback host without a token or a malformed address; io_error when
    // the address cannot be bound.
    Status bind(const std::string& listen);
    int port() const { return m_listener.port(); }
    // Serves until stop(); call from the thread that owns the server.
    void run();
    void stop();

private:
    void routes();
    ReviewStore& m_store;
    ReviewServerOptions m_options;
    AccessControl m_access;
    std::unique_ptr<httplib::Server> m_server;
    HttpListener m_listener;
};

}  // namespace assay::review
