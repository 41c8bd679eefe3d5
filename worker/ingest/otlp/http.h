#pragma once
// OtlpHttpServer: the OTLP/HTTP trace receiver (core/http_server.h), serving
//   POST /v1/traces   Content-Type: application/x-protobuf or application/json,
//                     optionally Content-Encoding: gzip
// on its own listener (worker.otlp_listen / --otlp-listen), separate from the
// operations listener (/metrics). Every request is answered by OtlpIntake
// (ingest/otlp/intake.h), in the request's encoding: 200 only after the spans
// are durably stored. Before the body is read, it refuses with 415 another
// Content-Type or a Content-Encoding other than identity or gzip, and with
// 413 a Content-Length over the body limit. The body is counted as it is
// read (chunked or not) and refused with 413 at once past the limit; a gzip
// body is inflated (ingest/otlp/gzip_body.h) up to the same limit (413 past
// it; 400 when it does not inflate or is cut anywhere, its CRC-32/length
// trailer included). Every 413 is counted and dead-lettered by the intake.
// Error bodies are google.rpc.Status objects (JSON {"code": 3, "message":
// "..."} or protobuf). The connection, header and time limits are the
// server's (HttpServerOptions).
//
// Borrows the OtlpIntake (it must outlive the server). start()/stop() from
// the owner's thread; requests are handled on the server's own threads.

#include <string>
#include <string_view>

#include "core/http_server.h"
#include "core/status.h"
#include "ingest/otlp/intake.h"

namespace assay {

// "HOST:PORT", or a bare "PORT" meaning 127.0.0.1:PORT (loopback default).
// Returns "HOST:PORT"; invalid_argument on anything else.
Result<std::string> normalize_otlp_listen(const std::string& listen);

// Decodes one POST /v1/traces body given its Content-Type and
// Content-Encoding headers (inflating gzip up to max_body_bytes) and hands
// it to `intake`. Never throws; every outcome is the intake's OtlpReply.
OtlpReply export_http_body(OtlpIntake& intake, const std::string& content_type,
                           const std::string& content_encoding, std::string_view body,
                           size_t max_body_bytes, int64_t now_ms);

class OtlpHttpServer {
public:
    // `http.max_body_bytes` is replaced by `max_body_bytes`.
    OtlpHttpServer(OtlpIntake& intake, size_t max_body_bytes, HttpServerOptions http);
    ~OtlpHttpServer();

    // Binds "HOST:PORT" or "PORT" (port 0 picks a free one). io_error names
    // the address when it cannot listen.
    Status start(const std::string& listen);
    void stop();
    int port() const { return m_server.port(); }
    const std::string& host() const { return m_server.host(); }

private:
    OtlpIntake& m_intake;
    size_t m_max_body_bytes;
    HttpServer m_server;
};

}  // namespace assay
