#pragma once
// HttpServer: the one HTTP/1.1 serving module of Assay (the worker's ops and
// OTLP/HTTP listeners and `assay review`), on GNU libmicrohttpd, built to
// hold against hostile clients. Every resource a client can make it spend is
// bounded by HttpServerOptions, per connection and in total:
//   - connections: at most max_connections open, max_connections_per_ip from
//     one address; a connection past either is closed at once, unanswered;
//   - headers: the request line and headers must fit in max_header_bytes
//     (else 431, or 414 for a request line alone over it) and number at most
//     max_headers (else 431), and arrive within header_timeout_ms of the
//     connection opening or of the previous answer on it (else 408);
//   - body: counted as it is read, chunked or not; past max_body_bytes the
//     request gets 413 at once, the rest is never read; the whole body must
//     arrive within body_timeout_ms of its headers (else 408);
//   - idle: a connection silent for idle_timeout_ms is closed.
// A request refused by a limit is answered and its connection closed; it
// never costs more memory than its limit. Each connection has a thread of
// its own, so slow clients never block fast ones and a handler may block
// (e.g. OTLP waits for its spans to be committed).
//
// Handlers see our own small Request/Response types. A port already in use
// is an error at bind(): the socket is bound exclusively (SO_REUSEADDR only,
// never SO_REUSEPORT).
//
// Thread safety: routes and hooks are set before bind(); handlers and hooks
// run on connection threads, concurrently, and must be thread-safe.
// bind()/start()/run()/stop() from the owner's thread (stop() also from a
// signal-watching thread); port(), host() and stats() from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/http_listen.h"
#include "core/status.h"

namespace assay {

// Every field states its default; config/ fills them (README "HTTP limits").
struct HttpServerOptions {
    size_t max_connections = 512;         // open connections in total
    size_t max_connections_per_ip = 128;  // open connections from one client address
    size_t max_header_bytes = 32 * 1024;  // request line + headers (431 / 414)
    size_t max_headers = 100;             // header fields (431)
    size_t max_body_bytes = 1 << 20;      // request body as received (413)
    int64_t header_timeout_ms = 10000;    // headers complete after connect / last answer (408)
    int64_t body_timeout_ms = 60000;      // body complete after its headers (408)
    int64_t idle_timeout_ms = 30000;      // a silent connection is closed
};

struct HttpRequest {
    std::string method;                                        // "GET", "POST", ...
    std::string path;                                          // without the query string
    std::vector<std::pair<std::string, std::string>> headers;  // as received
    std::vector<std::pair<std::string, std::string>> params;   // query (and form) parameters
    std::string body;
    std::string remote_addr;  // the client's address, numeric

    // Header lookups are case-insensitive; "" when absent.
    bool has_header(const std::string& name) const;
    std::string get_header_value(const std::string& name) const;
    bool has_param(const std::string& name) const;
    std::string get_param_value(const std::string& name) const;
};

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // Replaces a header of that name (case-insensitive) or adds it.
    void set_header(const std::string& name, const std::string& value);
    std::string get_header_value(const std::string& name) const;
    void set_content(std::string content, const std::string& content_type);
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;
// Runs once the headers are in, before the body is read: returns true when
// it answered `res` (the body is then never read and the connection closes).
using HttpPreRouting = std::function<bool(const HttpRequest&, HttpResponse&)>;

struct HttpServerStats {
    uint64_t requests = 0;
    uint64_t rejected_431 = 0, rejected_413 = 0, rejected_408 = 0;
    uint64_t open_connections = 0;
};

class HttpServer {
public:
    explicit HttpServer(HttpServerOptions options);
    ~HttpServer();  // stop()s
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void get(const std::string& path, HttpHandler handler);
    void post(const std::string& path, HttpHandler handler);
    void set_pre_routing(HttpPreRouting hook);
    // Fills the body of an answer the server made itself (404, 405, 408,
    // 413, 431) while it is still empty; `res.status` is set. Also told of
    // every 413 (to count and dead-letter it): req.body holds what was read.
    void set_error_handler(HttpHandler handler);

    // Binds "HOST:PORT" (PORT 0 picks a free port). invalid_argument for a
    // malformed address; io_error "cannot listen on 'ADDR': the address is
    // already in use ..." or "... not an address of this host".
    Status bind(const std::string& listen);
    // bind() and serve on the server's own threads; returns at once.
    Status start(const std::string& listen);
    // Serves (after bind()) until stop(), blocking the calling thread.
    Status run();
    // Stops serving: closes the listener, then every connection. Idempotent.
    void stop();

    int port() const { return m_port; }
    const std::string& host() const { return m_host; }
    HttpServerStats stats() const;

    struct Impl;  // libmicrohttpd callbacks reach it

private:
    Status serve();
    std::unique_ptr<Impl> m_impl;
    std::string m_host;
    int m_port = -1;
};

}  // namespace assay
