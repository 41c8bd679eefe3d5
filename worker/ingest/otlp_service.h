#pragma once
// OtlpService: the OTLP/HTTP receiver as the worker runs it — a SpanStore on
// the worker's SQLite file, the OtlpIntake (with its pending spans reloaded)
// and the OtlpHttpServer, built from the config. cmd_worker.cpp wires it to
// the Pipeline: pump() on the producer thread (ZmqIntake::set_tick),
// intake().on_commit() in the commit callback, erase_committed() after the
// pipeline has finished.
//
// open() fails (the worker exits 2) with a message naming the problem: an
// address that is not HOST:PORT, a port in use, a store without the
// otlp_spans table. Owner's thread only, except where OtlpIntake says
// otherwise.

#include <memory>
#include <string>

#include "config/config.h"
#include "ingest/otlp_http.h"
#include "ingest/otlp_intake.h"
#include "store/span_store.h"

namespace assay {

class OtlpService {
public:
    // Opens the span store on config.store, reloads its pending spans, binds
    // `listen` (HOST:PORT, or PORT for loopback) and starts answering
    // requests (spans are stored and held until pump() runs).
    static Result<std::unique_ptr<OtlpService>> open(const Config& config, const std::string& listen);
    ~OtlpService();

    // Stops answering; requests in progress finish first.
    void stop();
    OtlpIntake& intake() { return *m_intake; }
    // "HOST:PORT" actually bound (the real port when 0 was asked).
    std::string bound() const;
    size_t restored_spans() const { return m_restored; }

private:
    OtlpService() = default;
    std::unique_ptr<SpanStore> m_spans;
    std::unique_ptr<OtlpIntake> m_intake;
    std::unique_ptr<OtlpHttpServer> m_server;
    size_t m_restored = 0;
};

// The OtlpIntakeOptions the worker config asks for.
OtlpIntakeOptions otlp_options(const Config& config);

}  // namespace assay
