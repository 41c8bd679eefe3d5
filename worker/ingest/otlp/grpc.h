#pragma once
// OtlpGrpcServer: the OTLP/gRPC trace receiver (Debian's libgrpc++), serving
//   opentelemetry.proto.collector.trace.v1.TraceService/Export
// on its own port (worker.otlp_grpc_listen / --otlp-grpc-listen; a bare PORT
// means loopback; conventionally 4317), with gzip message compression as
// gRPC negotiates it. Each message goes, as its bytes, to the same
// OtlpIntake as the HTTP doors (OtlpDoor::grpc): same protobuf decoding,
// assembly, mapping and durability, OK only after the spans are committed.
// Status codes (OTLP specification): OK with partial_success;
// INVALID_ARGUMENT for a message that does not decode; RESOURCE_EXHAUSTED
// (no retry) for one over worker.otlp_max_body_bytes; UNAVAILABLE with a
// google.rpc.RetryInfo detail when overloaded. Messages over twice the limit
// are refused by gRPC itself (RESOURCE_EXHAUSTED, its own message) without
// being read whole; the handler sees no message and counts (413 in
// assay_otlp_requests_total) and dead-letters the refusal, without its bytes.
//
// Bounded like the HTTP doors (OtlpGrpcLimits, derived from the same
// worker.http_* and OTLP limits by otlp_grpc_limits()): message size,
// metadata size, streams per connection, threads and memory (a gRPC
// ResourceQuota), handshake time, idle and keepalive. A call over a limit
// that the handler sees (metadata or a message over the limit, up to twice
// it) is answered RESOURCE_EXHAUSTED, counted in assay_otlp_requests_total
// (431 / 413) and dead-lettered; gRPC refuses what is larger itself.
//
// Binds exclusively (no SO_REUSEPORT): a port in use is an error at start().
// Borrows the OtlpIntake (it must outlive the server). start()/stop() from
// the owner's thread; requests run on gRPC's own threads.

#include <memory>
#include <string>

#include "core/http_server.h"
#include "core/status.h"
#include "ingest/otlp/intake.h"

namespace grpc {
class Server;
}

namespace assay {

// The limits of the gRPC door. Each field states its default (README "OTLP
// receiver", gRPC limits).
struct OtlpGrpcLimits {
    // A message (after decompression) over this is refused: up to twice it
    // by the handler (counted, dead-lettered), beyond by gRPC itself.
    size_t max_body_bytes = 8 * 1024 * 1024;
    // Request metadata (keys + values) over this is refused: up to twice it
    // by the handler (431 in the metrics), beyond by gRPC itself.
    size_t max_metadata_bytes = 32 * 1024;
    int max_concurrent_streams = 32;              // streams open on one connection
    int max_threads = 48;                         // gRPC server threads (ResourceQuota)
    size_t memory_quota_bytes = 64 << 20;         // gRPC's own buffers (ResourceQuota)
    int64_t handshake_timeout_ms = 10000;         // connection set-up (HTTP/2 preface)
    int64_t idle_timeout_ms = 30000;              // a connection without calls is closed
    int64_t keepalive_ms = 60000;                 // server pings a silent connection
    int64_t keepalive_timeout_ms = 20000;         // no answer to the ping: closed
    int64_t max_connection_age_ms = 600000;       // then the client is asked to reconnect
    int64_t max_connection_age_grace_ms = 60000;  // calls still open then are cut
};

// The gRPC door's limits from the HTTP doors' (worker.http_*: metadata =
// header bytes, handshake = header timeout, idle, age grace = body timeout),
// the OTLP body limit and the intake's in-progress limit (streams per
// connection and threads: twice it, and 16 more threads, so the intake's
// counted UNAVAILABLE comes before gRPC's own refusals; memory: 8 x the body
// limit, at least 16 MiB).
OtlpGrpcLimits otlp_grpc_limits(const HttpServerOptions& http, size_t max_body_bytes,
                                int max_concurrent_requests);

class OtlpGrpcServer {
public:
    OtlpGrpcServer(OtlpIntake& intake, OtlpGrpcLimits limits);
    ~OtlpGrpcServer();  // stop()s
    OtlpGrpcServer(const OtlpGrpcServer&) = delete;
    OtlpGrpcServer& operator=(const OtlpGrpcServer&) = delete;

    // Binds "HOST:PORT" or "PORT" (port 0 picks a free one) and serves.
    // invalid_argument for a malformed address; io_error "cannot listen on
    // 'ADDR' (OTLP/gRPC): ..." when it cannot bind.
    Status start(const std::string& listen);
    // Stops serving; calls in progress finish first. Idempotent.
    void stop();
    int port() const { return m_port; }
    const std::string& host() const { return m_host; }

private:
    class Service;
    OtlpIntake& m_intake;
    OtlpGrpcLimits m_limits;
    std::unique_ptr<Service> m_service;
    std::unique_ptr<grpc::Server> m_server;
    std::string m_host;
    int m_port = -1;
};

}  // namespace assay
