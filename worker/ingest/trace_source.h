#pragma once
// TraceSource: one way traces reach the worker (ZeroMQ, OTLP/HTTP, ...), and
// RecordSink: where a source puts what it received. The worker
// (daemon/worker.h) drives every source from the pipeline's single producer
// thread and, after each commit, hands each source the outcomes of its own
// records by the tags it gave, so it can acknowledge them. A source never
// sees another source's records.
//
// Thread safety: poll() and finish() run on the producer thread; committed()
// on the pipeline's writer thread; describe() and metrics_text() on any
// thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/evaluate.h"

namespace assay {

class RecordSink {
public:
    virtual ~RecordSink() = default;
    // Queues one record for scoring and storing; `tag` comes back in
    // TraceSource::committed(). Blocks while the pipeline is full
    // (backpressure). Returns the store's error once a commit has failed.
    virtual Status submit(RawRecord record, uint64_t tag) = 0;
};

class TraceSource {
public:
    virtual ~TraceSource() = default;

    // What it listens on, for the worker's start-up line
    // ("router=tcp://127.0.0.1:5556", "otlp=127.0.0.1:4318").
    virtual std::string describe() const = 0;
    // Submits what has arrived to `sink`, waiting at most `wait` for input,
    // and sends the acknowledgements of committed records. Returns the
    // sink's error or a failure that must stop the worker.
    virtual Status poll(RecordSink& sink, std::chrono::milliseconds wait) = 0;
    // The outcomes of this source's records in one committed chunk:
    // errors[i] is empty when the record with tags[i] was stored as a trace,
    // else why it was dead-lettered.
    virtual void committed(const std::vector<uint64_t>& tags,
                           const std::vector<std::string>& errors) = 0;
    // Once, after the pipeline has drained: stop taking input and send what
    // is still owed.
    virtual void finish() = 0;
    // Its counters in the Prometheus text format.
    virtual std::string metrics_text() const = 0;
};

}  // namespace assay
