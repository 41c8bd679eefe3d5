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
// being buffered; the handler sees no message and counts (413 in
// assay_otlp_requests_total) and dead-letters the refusal, without its bytes.
//
// Binds exclusively (no SO_REUSEPORT): a port in use is an error at start().
// Borrows the OtlpIntake (it must outlive the server). start()/stop() from
// the owner's thread; requests run on gRPC's own threads.

#include <memory>
#include <string>

#include "core/status.h"
#include "ingest/otlp/intake.h"

namespace grpc {
class Server;
}

namespace assay {

class OtlpGrpcServer {
public:
    OtlpGrpcServer(OtlpIntake& intake, size_t max_body_bytes);
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
    size_t m_max_body_bytes;
    std::unique_ptr<Service> m_service;
    std::unique_ptr<grpc::Server> m_server;
    std::string m_host;
    int m_port = -1;
};

}  // namespace assay
