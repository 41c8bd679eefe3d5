#include "ingest/otlp/grpc.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/method_handler.h>

#include <algorithm>
#include <climits>

#include "core/clock.h"
#include "core/http_listen.h"
#include "ingest/otlp/http.h"

namespace assay {

namespace {
constexpr const char* k_method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

int clamp_int(int64_t v) { return static_cast<int>(std::clamp<int64_t>(v, 0, INT_MAX)); }
}  // namespace

OtlpGrpcLimits otlp_grpc_limits(const HttpServerOptions& http, size_t max_body_bytes,
                                int max_concurrent_requests) {
    OtlpGrpcLimits l;
    l.max_body_bytes = max_body_bytes;
    l.max_metadata_bytes = http.max_header_bytes;
    l.max_concurrent_streams = std::max(2 * max_concurrent_requests, 1);
    l.max_threads = 2 * max_concurrent_requests + 16;
    l.handshake_timeout_ms = http.header_timeout_ms;
    l.idle_timeout_ms = http.idle_timeout_ms;
    l.max_connection_age_grace_ms = http.body_timeout_ms;
    // Room for four messages of the largest size the handler still reads.
    l.memory_quota_bytes = std::max<size_t>(8 * max_body_bytes, 16 << 20);
    return l;
}

// The TraceService with its one method taking and giving raw bytes (the
// message is decoded by the intake, as for HTTP), registered the way
// grpc_cpp_plugin's generated services register theirs, but as a
// client-streaming method: on the wire a unary call is the same, and the
// handler then runs before the message is received, so a message gRPC
// refuses (over its receive limit) is seen as a failed Read and counted. As
// a unary method gRPC would drop such a call before any handler ran.
class OtlpGrpcServer::Service final : public grpc::Service {
public:
    Service(OtlpIntake& intake, size_t grpc_limit, size_t max_metadata_bytes)
        : m_intake(intake), m_grpc_limit(grpc_limit), m_max_metadata_bytes(max_metadata_bytes) {
        AddMethod(new grpc::internal::RpcServiceMethod(
            k_method, grpc::internal::RpcMethod::CLIENT_STREAMING,
            new grpc::internal::ClientStreamingHandler<Service, grpc::ByteBuffer, grpc::ByteBuffer>(
                [](Service* s, grpc::ServerContext* ctx,
                   grpc::ServerReader<grpc::ByteBuffer>* reader,
                   grpc::ByteBuffer* resp) { return s->Export(*ctx, *reader, *resp); },
                this)));
    }

private:
    grpc::Status Export(const grpc::ServerContext& ctx,
                        grpc::ServerReader<grpc::ByteBuffer>& reader, grpc::ByteBuffer& resp) {
        // The metadata, as the HTTP doors' headers: over the limit (up to
        // twice it; gRPC refuses more itself) is refused before the message
        // is read, counted and dead-lettered.
        size_t metadata = 0;
        for (const auto& [key, value] : ctx.client_metadata()) {
            metadata += key.size() + value.size();
        }
        if (metadata > m_max_metadata_bytes) {
            const std::string why = "request metadata is " + std::to_string(metadata) +
                                    " bytes; the limit is " + std::to_string(m_max_metadata_bytes) +
                                    " (worker.http_max_header_bytes)";
            OtlpReply r =
                m_intake.reject(431, why, static_cast<int64_t>(metadata), now_ms(), OtlpDoor::grpc);
            return grpc::Status(static_cast<grpc::StatusCode>(r.grpc_code), r.message, r.body);
        }
        grpc::ByteBuffer req;
        if (!reader.Read(&req)) {
            // No message: gRPC refused it (over its receive limit; it answers
            // RESOURCE_EXHAUSTED itself) or the client gave up. Counted and
            // dead-lettered (without the message, which was never kept).
            const std::string why =
                "no message received: gRPC refused it (over its receive limit of " +
                std::to_string(m_grpc_limit) +
                " bytes, twice worker.otlp_max_body_bytes) or the client "
                "cancelled the call";
            OtlpReply r = m_intake.reject(413, why, 0, now_ms(), OtlpDoor::grpc);
            return grpc::Status(static_cast<grpc::StatusCode>(r.grpc_code), r.message, r.body);
        }
        std::string body;
        std::vector<grpc::Slice> slices;
        if (!req.Dump(&slices).ok()) {
            return grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the request message");
        }
        size_t size = 0;
        for (const auto& s : slices) {
            size += s.size();
        }
        body.reserve(size);
        for (const auto& s : slices) {
            body.append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
        OtlpReply r = m_intake.export_request(body, OtlpDoor::grpc, now_ms());
        if (r.status == 200) {
            grpc::Slice slice(r.body);
            resp = grpc::ByteBuffer(&slice, 1);
            return grpc::Status::OK;
        }
        // The body is the google.rpc.Status (with RetryInfo when it says
        // when to retry): gRPC sends it as grpc-status-details-bin.
        return grpc::Status(static_cast<grpc::StatusCode>(r.grpc_code), r.message, r.body);
    }

    OtlpIntake& m_intake;
    size_t m_grpc_limit;
    size_t m_max_metadata_bytes;
};

OtlpGrpcServer::OtlpGrpcServer(OtlpIntake& intake, OtlpGrpcLimits limits)
    : m_intake(intake), m_limits(limits) {}

OtlpGrpcServer::~OtlpGrpcServer() { stop(); }

Status OtlpGrpcServer::start(const std::string& listen) {
    auto norm = normalize_otlp_listen(listen);
    if (!norm.ok()) {
        return norm.status();
    }
    auto addr = parse_listen(*norm);
    if (!addr.ok()) {
        return addr.status();
    }
    // Messages a little over the limit reach the intake, which counts and
    // dead-letters them with their bytes; gRPC refuses larger ones itself
    // (without buffering more than this), and the handler counts those.
    const size_t grpc_limit = std::min<size_t>(m_limits.max_body_bytes * 2, INT_MAX);
    m_service = std::make_unique<Service>(m_intake, grpc_limit, m_limits.max_metadata_bytes);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(*norm, grpc::InsecureServerCredentials(), &port);
    // Exclusive: a second worker on the same port is a start-up error.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.SetMaxReceiveMessageSize(static_cast<int>(grpc_limit));
    // The limits the HTTP doors hold to (see OtlpGrpcLimits).
    builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                               clamp_int(static_cast<int64_t>(m_limits.max_metadata_bytes) * 2));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, m_limits.max_concurrent_streams);
    builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                               clamp_int(m_limits.handshake_timeout_ms));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               clamp_int(m_limits.idle_timeout_ms));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               clamp_int(m_limits.max_connection_age_ms));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               clamp_int(m_limits.max_connection_age_grace_ms));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, clamp_int(m_limits.keepalive_ms));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                               clamp_int(m_limits.keepalive_timeout_ms));
    // A sender gets flow-control credit for what the server reads, not more
    // (no window growth by bandwidth probing): a message gRPC refuses costs
    // its window, not its size.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    grpc::ResourceQuota quota("otlp_grpc");
    quota.Resize(m_limits.memory_quota_bytes);
    quota.SetMaxThreads(m_limits.max_threads);
    builder.SetResourceQuota(quota);
    builder.RegisterService(m_service.get());
    m_server = builder.BuildAndStart();
    if (!m_server || port == 0) {
        m_server.reset();
        return Status::io_error("cannot listen on '" + *norm +
                                "' (OTLP/gRPC): the address is already in use or not an address "
                                "of this host");
    }
    m_host = addr->first;
    m_port = port;
    return {};
}

void OtlpGrpcServer::stop() {
    if (m_server) {
        m_server->Shutdown();
        m_server->Wait();
        m_server.reset();
    }
}

}  // namespace assay
