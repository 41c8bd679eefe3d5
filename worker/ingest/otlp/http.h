#pragma once
// OtlpHttpServer: the OTLP/HTTP trace receiver (cpp-httplib), serving
//   POST /v1/traces   Content-Type: application/x-protobuf or application/json,
//                     optionally Content-Encoding: gzip
// on its own listener (worker.otlp_listen / --otlp-listen), separate from the
// operations listener (/metrics). Every request is answered by OtlpIntake
// (ingest/otlp/intake.h), in the request's encoding: 200 only after the spans
// are durably stored. Before the body is read, it refuses with 415 another
// Content-Type or a Content-Encoding other than identity or gzip, and with
// 413 a Content-Length over the body limit. A gzip body is inflated as it is
// read (ingest/otlp/gzip_body.h, not cpp-httplib's decompressor), and reading
// stops (413) once the inflated bytes pass the limit; a body that does not
// inflate, or is cut anywhere (its CRC-32/length trailer included), is 400. Error bodies are
// google.rpc.Status objects (JSON {"code": 3, "message": "..."} or protobuf).
//
// Borrows the OtlpIntake (it must outlive the server). start()/stop() from
// the owner's thread; requests are handled on the server's own threads.

#include <memory>
#include <string>
#include <thread>

#include "core/http_listen.h"
#include "core/status.h"
#include "ingest/otlp/intake.h"

namespace httplib {
class Server;
}

namespace assay {

// "HOST:PORT", or a bare "PORT" meaning 127.0.0.1:PORT (loopback default).
// Returns "HOST:PORT"; invalid_argument on anything else.
Result<std::string> normalize_otlp_listen(const std::string& listen);

class OtlpHttpServer {
public:
    OtlpHttpServer(OtlpIntake& intake, size_t max_body_bytes);
    ~OtlpHttpServer();

    // Binds "HOST:PORT" or "PORT" (port 0 picks a free one). io_error names
    // the address when it cannot listen.
    Status start(const std::string& listen);
    void stop();
    int port() const { return m_listener.port(); }
    const std::string& host() const { return m_listener.host(); }

private:
    OtlpIntake& m_intake;
    size_t m_max_body_bytes;
    std::unique_ptr<httplib::Server> m_server;
    HttpListener m_listener;
};

}  // namespace assay
