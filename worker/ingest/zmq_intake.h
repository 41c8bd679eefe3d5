#pragma once
// ZmqIntake: the worker's ZeroMQ front door. Reads a PULL socket
// (fire-and-forget) and/or a ROUTER socket (acknowledged, see
// zmq_protocol.h), hands every trace to the Pipeline, and answers each ROUTER
// message only after all its traces are committed. Batches are closed every
// `flush_ms` as well as every pipeline.batch_size traces.
//
// Backpressure: when the pipeline is full, submit() blocks, the sockets are
// not read, and ZeroMQ's receive high-water marks push back on producers.
// Ownership: borrows the Pipeline (which must outlive it) and owns its
// sockets. run() is called on one thread; stop() is safe from any thread
// (and from a signal handler through the flag it sets).

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "core/status.h"
#include "ingest/zmq_protocol.h"
#include "pipeline/pipeline.h"

namespace assay {

struct ZmqIntakeOptions {
    // "tcp://127.0.0.1:5555" binds; a leading '>' connects instead
    // (">tcp://collector:5555"). Empty: that socket is not opened.
    std::string pull_endpoint;
    std::string router_endpoint;
    int flush_ms = 50;           // worker.flush_ms: close a partial batch after this long
    int rcvhwm = 10000;          // worker.zmq_rcvhwm: messages queued per socket before pushing back
    int linger_ms = 2000;        // how long unsent acks may keep the socket open at exit
    int64_t max_message_bytes = 64 << 20;  // worker.zmq_max_message_bytes: larger messages drop the peer
};

class ZmqIntake {
public:
    // Traces larger than `max_trace_bytes` (ingest.max_trace_bytes) are
    // dead-lettered with their first max_trace_bytes kept.
    ZmqIntake(ZmqIntakeOptions options, Pipeline& pipeline, size_t max_trace_bytes);
    ~ZmqIntake();

    // Opens the sockets. io_error names the endpoint that failed.
    Status open();
    // The endpoints actually bound (with the real port for "tcp://…:0"-style
    // wildcards), for logs and tests.
    std::string pull_bound() const { return m_pull_bound; }
    std::string router_bound() const { return m_router_bound; }

    // Reads until stop() is called, then stops reading, drains the pipeline
    // (every received trace is committed) and sends the remaining acks.
    // Returns the pipeline's error if a commit failed.
    Status run();
    void stop() { m_stop.store(true); }
    std::atomic<bool>& stop_flag() { return m_stop; }

    // The pipeline's commit callback must forward to this (writer thread).
    // Tags with the top bit set belong to other intakes (OTLP) and are ignored.
    void on_commit(const Pipeline::CommitReport& report);

    // Another intake's work on this (the pipeline's producer) thread: `tick`
    // runs on every turn of run()'s loop (at most every 10 ms) before the
    // partial batch is flushed; its error stops run() like a store error.
    // Set before open(): with a tick, open() accepts having no socket.
    void set_tick(std::function<Status()> tick) { m_tick = std::move(tick); }

    struct Counters {
        uint64_t messages = 0, traces = 0, bad_frames = 0, acks_sent = 0, pending_acks = 0;
    };
    Counters counters() const;

private:
    struct Pending {  // a ROUTER message waiting for its commits
        std::string identity;
        std::string msg_id;
        uint32_t total = 0;
        uint32_t done = 0;
        Ack ack;
    };
    void read_pull();
    void read_router();
    void deliver_commits();
    void send_ack(Pending& p);
    void publish_pending();  // copies m_pending.size() into the counters
    Status submit(std::string text, uint64_t tag, const std::string& source, std::string reject = {});

    ZmqIntakeOptions m_options;
    Pipeline& m_pipeline;
    size_t m_max_trace_bytes;
    zmq::context_t m_ctx;
    std::unique_ptr<zmq::socket_t> m_pull;
    std::unique_ptr<zmq::socket_t> m_router;
    std::string m_pull_bound, m_router_bound;
    std::atomic<bool> m_stop{false};
    Status m_error;
    std::function<Status()> m_tick;

    uint64_t m_next_seq = 1;                 // 0 tags fire-and-forget records
    std::map<uint64_t, Pending> m_pending;   // by message sequence number

    mutable std::mutex m_mu;                 // guards m_committed and m_counters
    std::deque<std::pair<uint64_t, std::string>> m_committed;  // (tag, error) from the writer
    Counters m_counters;
};

}  // namespace assay
