#pragma once
// ZmqIntake: the worker's ZeroMQ front door, a TraceSource. Reads a PULL
// socket (fire-and-forget) and/or a ROUTER socket (acknowledged, see
// zmq_protocol.h), hands every trace to the sink, and answers each ROUTER
// message only after all its traces are committed.
//
// Backpressure: when the pipeline is full, the sink blocks, the sockets are
// not read, and ZeroMQ's receive high-water marks push back on producers.
// Ownership: owns its sockets. Threads as TraceSource says.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "core/status.h"
#include "ingest/trace_source.h"
#include "ingest/zmq_protocol.h"

namespace assay {

struct ZmqIntakeOptions {
    // "tcp://127.0.0.1:5555" binds; a leading '>' connects instead
    // (">tcp://collector:5555"). Empty: that socket is not opened.
    std::string pull_endpoint;
    std::string router_endpoint;
    int rcvhwm = 10000;    // worker.zmq_rcvhwm: messages queued per socket before pushing back
    int linger_ms = 2000;  // how long unsent acks may keep the socket open at exit
    int64_t max_message_bytes =
        64 << 20;  // worker.zmq_max_message_bytes: larger messages drop the peer
    // worker.zmq_max_traces_per_message (1-16777215): a message holding more
    // traces is refused whole: one dead letter, one reason in its ack.
    uint32_t max_traces_per_message = 10000;
};

class ZmqIntake final : public TraceSource {
public:
    // Traces larger than `max_trace_bytes` (ingest.max_trace_bytes) are
    // dead-lettered with their first max_trace_bytes kept.
    ZmqIntake(ZmqIntakeOptions options, size_t max_trace_bytes);
    ~ZmqIntake() override;

    // Opens the sockets. io_error names the endpoint that failed;
    // invalid_argument when neither endpoint is given.
    Status open();
    // The endpoints actually bound (with the real port for "tcp://…:0"-style
    // wildcards), for logs and tests.
    std::string pull_bound() const { return m_pull_bound; }
    std::string router_bound() const { return m_router_bound; }

    // TraceSource. Tag 0 marks a fire-and-forget record.
    std::string describe() const override;
    Status poll(RecordSink& sink, std::chrono::milliseconds wait) override;
    void committed(const std::vector<uint64_t>& tags,
                   const std::vector<std::string>& errors) override;
    void finish() override;
    std::string metrics_text() const override;

    struct Counters {
        uint64_t messages = 0, traces = 0, bad_frames = 0, acks_sent = 0, pending_acks = 0;
        uint64_t too_many_traces = 0;  // messages refused whole
    };
    Counters counters() const;

private:
    struct Pending {  // a ROUTER message waiting for its commits
        std::string identity;
        std::string msg_id;
        uint32_t total = 0;
        uint32_t done = 0;
        bool whole = false;  // refused whole: its one record is the message
        Ack ack;
    };
    // The trace texts of payload frames [first, end), at most the limit;
    // nullopt when there are more (the message is refused whole).
    std::optional<std::vector<std::string_view>> split_message(
        const std::vector<zmq::message_t>& frames, size_t first) const;
    std::string too_many_reason(const char* socket) const;
    Status read_pull(RecordSink& sink);
    Status read_router(RecordSink& sink);
    void deliver_commits();
    void send_ack(Pending& p);
    void publish_pending();  // copies m_pending.size() into the counters
    Status submit(RecordSink& sink, std::string text, uint64_t tag, const std::string& source,
                  std::string reject = {});

    ZmqIntakeOptions m_options;
    size_t m_max_trace_bytes;
    zmq::context_t m_ctx;
    std::unique_ptr<zmq::socket_t> m_pull;
    std::unique_ptr<zmq::socket_t> m_router;
    std::string m_pull_bound, m_router_bound;

    uint64_t m_next_seq = 1;                // 0 tags fire-and-forget records
    std::map<uint64_t, Pending> m_pending;  // by message sequence number

    mutable std::mutex m_mu;                                   // guards m_committed and m_counters
    std::deque<std::pair<uint64_t, std::string>> m_committed;  // (tag, error) from the writer
    Counters m_counters;
};

}  // namespace assay
