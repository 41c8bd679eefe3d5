#pragma once
// OtlpSource: the OTLP receiver as a TraceSource — a SpanStore on the
// store's SQLite file, the OtlpIntake (with its pending spans reloaded) and
// its doors: the OtlpHttpServer (JSON and protobuf) and the OtlpGrpcServer,
// each when its address is given, both feeding the one intake. poll() submits the traces whose
// spans are complete; finish() stops answering requests (spans that still arrive are refused; those
// stored are resumed after a restart) and deletes the pending spans of committed traces.
//
// open() fails (the worker exits 2) with a message naming the problem: an
// address that is not HOST:PORT, a port in use, a store without the
// otlp_spans table; the message starts with the flag (--otlp-listen: or
// --otlp-grpc-listen:). Threads as TraceSource says; the servers have their own.

#include <memory>
#include <string>

#include "ingest/otlp/grpc.h"
#include "ingest/otlp/http.h"
#include "ingest/otlp/intake.h"
#include "ingest/trace_source.h"
#include "store/span_store.h"
#include "store/store.h"

namespace assay {

class OtlpSource final : public TraceSource {
public:
    // Opens the span store on `store`, reloads its pending spans, binds
    // `listen` (OTLP/HTTP) and `grpc_listen` (OTLP/gRPC), each HOST:PORT, or
    // PORT for loopback, or "" for no such door, and starts answering
    // requests (spans are stored and held until poll() submits them).
    // The HTTP door is bounded by `http` (its body limit is the intake's).
    static Result<std::unique_ptr<OtlpSource>> open(const OtlpIntakeOptions& options,
                                                    const HttpServerOptions& http,
                                                    const StoreOptions& store,
                                                    const std::string& listen,
                                                    const std::string& grpc_listen = {});
    ~OtlpSource() override;

    OtlpIntake& intake() { return *m_intake; }
    // "HOST:PORT" actually bound (the real port when 0 was asked); "" for a
    // door that is off.
    std::string bound() const;
    std::string grpc_bound() const;
    size_t restored_spans() const { return m_restored; }

    // TraceSource. poll() waits `wait` only when nothing was ready.
    // "otlp=HOST:PORT otlp_grpc=HOST:PORT" (the doors that are on).
    std::string describe() const override;
    Status poll(RecordSink& sink, std::chrono::milliseconds wait) override;
    void committed(const std::vector<uint64_t>& tags,
                   const std::vector<std::string>& errors) override {
        m_intake->committed(tags, errors);
    }
    void finish() override;
    std::string metrics_text() const override { return m_intake->render_metrics(); }

private:
    OtlpSource() = default;
    std::unique_ptr<SpanStore> m_spans;
    std::unique_ptr<OtlpIntake> m_intake;
    std::unique_ptr<OtlpHttpServer> m_server;
    std::unique_ptr<OtlpGrpcServer> m_grpc;
    size_t m_restored = 0;
};

}  // namespace assay
