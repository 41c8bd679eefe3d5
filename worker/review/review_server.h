#pragma once
// ReviewServer: the `assay review` web app (core/http_server.h): binding, the
// access checks every request passes first (rules in access.h), the pages
// and the login and logout; the JSON API's routes are in api_routes.h. Pages (the
// workspace at / and /trace, calibration, trends, gate, login) are static HTML +
// JS files (app.js shared, trace_view.js and workspace.js for the workspace,
// gate.js) + one CSS file embedded in the binary; the JS fills them from the JSON
// API with textContent only. Every response carries a strict Content-Security-Policy
// (no inline script), nosniff and no-framing headers.
//
// Bounded like every Assay server (ReviewServerOptions::http, README "HTTP
// limits"). Thread-safety: handlers run on connection threads and share the
// ReviewStore (which serialises its calls). start()/stop() from one thread.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/http_server.h"
#include "core/status.h"
#include "review/access.h"
#include "store/gate_mark_store.h"
#include "store/review_store.h"

namespace assay::review {

struct ReviewServerOptions {
    std::string token;        // --token / ASSAY_REVIEW_TOKEN; empty: no login (loopback only)
    SessionOptions sessions;  // --session-ttl: how long a login lasts; how many are kept
    std::optional<PublicUrl> public_url;  // --public-url: origin, Secure cookies, link prefix
    double min_kappa = 0.6;               // --min-kappa: the calibration page's bar
    int64_t min_labels = 20;              // --min-labels
    int64_t max_page = 500;               // the largest `limit` the list API accepts
    HttpServerOptions http;               // connection, header, body (1 MiB) and time limits
    // --gate-report: the gate run the /gate page shows, as GET /api/gate
    // answers it ({"report", "cases", "cases_note"}); null: no report.
    std::shared_ptr<const nlohmann::json> gate;
    // Where the real/noise marks on the gate run's regressions are kept (with
    // `gate`; GET /api/gate answers 404 without it). Not owned; must outlive
    // the server.
    GateMarkStore* gate_marks = nullptr;
};

class ReviewServer {
public:
    // `store` must outlive the server.
    ReviewServer(ReviewStore& store, ReviewServerOptions options);
    ~ReviewServer();

    // Binds "HOST:PORT" (PORT 0 picks a free one). invalid_argument for a
    // non-loopback host without a token, a token under 16 characters or a
    // malformed address; io_error when the address cannot be bound.
    Status bind(const std::string& listen);
    int port() const { return m_server.port(); }
    // Serves until stop(); call from the thread that owns the server.
    Status run();
    void stop();

private:
    void routes();
    ReviewStore& m_store;
    ReviewServerOptions m_options;
    AccessControl m_access;
    std::map<std::string, std::string> m_pages;  // path -> HTML, links prefixed
    HttpServer m_server;
};

}  // namespace assay::review
