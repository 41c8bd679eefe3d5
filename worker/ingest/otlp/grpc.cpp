#include "ingest/otlp/grpc.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include <algorithm>
#include <climits>

#include "core/clock.h"
#include "core/http_listen.h"
#include "ingest/otlp/http.h"

namespace assay {

namespace {
constexpr const char* k_method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
}  // namespace

// The TraceService with its one method taking and giving raw bytes (the
// message is decoded by the intake, as for HTTP), registered the way
// grpc_cpp_plugin's generated services register theirs, but as a
// client-streaming method: on the wire a unary call is the same, and the
// handler then runs before the message is received, so a message gRPC
// refuses (over its receive limit) is seen as a failed Read and counted. As
// a unary method gRPC would drop such a call before any handler ran.
class OtlpGrpcServer::Service final : public grpc::Service {
public:
    Service(OtlpIntake& intake, size_t grpc_limit) : m_intake(intake), m_grpc_limit(grpc_limit) {
        AddMethod(new grpc::internal::RpcServiceMethod(
            k_method, grpc::internal::RpcMethod::CLIENT_STREAMING,
            new grpc::internal::ClientStreamingHandler<Service, grpc::ByteBuffer, grpc::ByteBuffer>(
                [](Service* s, grpc::ServerContext*, grpc::ServerReader<grpc::ByteBuffer>* reader,
                   grpc::ByteBuffer* resp) { return s->Export(*reader, *resp); },
                this)));
    }

private:
    grpc::Status Export(grpc::ServerReader<grpc::ByteBuffer>& reader, grpc::ByteBuffer& resp) {
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
};

OtlpGrpcServer::OtlpGrpcServer(OtlpIntake& intake, size_t max_body_bytes)
    : m_intake(intake), m_max_body_bytes(max_body_bytes) {}

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
    const size_t grpc_limit = std::min<size_t>(m_max_body_bytes * 2, INT_MAX);
    m_service = std::make_unique<Service>(m_intake, grpc_limit);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(*norm, grpc::InsecureServerCredentials(), &port);
    // Exclusive: a second worker on the same port is a start-up error.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.SetMaxReceiveMessageSize(static_cast<int>(grpc_limit));
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
