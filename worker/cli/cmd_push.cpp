// `assay push`: the reference acknowledged producer. Sends JSONL traces to a
// worker's ROUTER endpoint, keeps every unacknowledged message, resends it
// after --timeout-ms, and exits 0 only when every trace has been acknowledged.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "cli/commands.h"
#include "ingest/jsonl_reader.h"
#include "ingest/zmq_protocol.h"

namespace assay::cli {

namespace {

struct PushArgs {
    std::string endpoint, in = "-";
    int window = 1000;
    int batch = 100;
    int timeout_ms = 2000;
    int64_t deadline_ms = 0;
    double rate = 0;         // traces per second; 0 = as fast as the window allows
    int64_t max_traces = 0;  // stop reading after this many; 0 = all
    size_t max_line_bytes = 4 << 20;
};

struct InFlight {
    std::vector<std::string> lines;
    std::vector<int64_t> line_numbers;
    std::chrono::steady_clock::time_point sent;
    int attempts = 0;
};

using Clock = std::chrono::steady_clock;

int run_push(const PushArgs& a) {
    auto reader = JsonlReader::open(a.in, a.max_line_bytes);
    if (!reader.ok()) {
        std::fprintf(stderr, "assay push: %s\n", reader.status().message().c_str());
        return 2;
    }
    zmq::context_t ctx(1);
    zmq::socket_t sock(ctx, zmq::socket_type::dealer);
    sock.set(zmq::sockopt::linger, 0);
    try {
        sock.connect(a.endpoint);
    } catch (const zmq::error_t& e) {
        std::fprintf(stderr, "assay push: cannot connect to '%s': %s\n", a.endpoint.c_str(),
                     e.what());
        return 2;
    }
    std::map<std::string, InFlight> in_flight;  // by message id
    uint64_t next_id = 1;
    bool input_done = false;
    int64_t sent_traces = 0, accepted = 0, rejected = 0, resent = 0;
    std::vector<double> latencies_ms;  // first send -> ack, for messages acked on their first try
    const auto started = Clock::now();
    auto send = [&](const std::string& id, InFlight& m) {
        zmq::multipart_t msg;
        msg.addstr(id);
        for (const auto& l : m.lines) {
            msg.addstr(l);
        }
        msg.send(sock);
        m.sent = Clock::now();
        ++m.attempts;
    };
    JsonlRecord rec;
    while (!input_done || !in_flight.empty()) {
        // Fill the window: up to `window` traces unacknowledged, and no
        // faster than --rate (an offered load, for latency measurements).
        auto rate_allows = [&] {
            if (a.rate <= 0) {
                return true;
            }
            double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
            return static_cast<double>(sent_traces) < elapsed * a.rate;
        };
        while (!input_done && static_cast<int64_t>(in_flight.size()) * a.batch < a.window &&
               rate_allows()) {
            InFlight m;
            while (static_cast<int>(m.lines.size()) < a.batch &&
                   (a.max_traces <= 0 ||
                    sent_traces + static_cast<int64_t>(m.lines.size()) < a.max_traces) &&
                   (*reader)->next(rec)) {
                m.lines.push_back(std::move(rec.text));
                m.line_numbers.push_back(rec.line);
            }
            if (static_cast<int>(m.lines.size()) < a.batch) {
                input_done = true;
                if (!(*reader)->status().ok()) {
                    std::fprintf(stderr, "assay push: %s\n", (*reader)->status().message().c_str());
                    return 2;
                }
            }
            if (m.lines.empty()) {
                break;
            }
            sent_traces += static_cast<int64_t>(m.lines.size());
            std::string id = std::to_string(next_id++);
            send(id, in_flight.emplace(id, std::move(m)).first->second);
        }
        // Collect acks.
        zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(a.rate > 0 ? 1 : 50));
        while (true) {
            zmq::multipart_t reply;
            if (!reply.recv(sock, ZMQ_DONTWAIT)) {
                break;
            }
            if (reply.size() != 2) {
                continue;
            }
            std::string id = reply[0].to_string();
            auto it = in_flight.find(id);
            if (it == in_flight.end()) {
                continue;  // a late ack for a message already acknowledged
            }
            auto ack = decode_ack(reply[1].to_string_view());
            if (!ack.ok()) {
                // Not counted as acknowledged: the message is resent after the timeout.
                std::fprintf(stderr, "assay push: message %s: %s\n", id.c_str(),
                             ack.status().message().c_str());
                continue;
            }
            accepted += ack->accepted;
            const auto& lines = it->second.line_numbers;
            rejected += ack->rejected_count(static_cast<uint32_t>(lines.size()));
            if (!ack->error.empty()) {
                std::fprintf(stderr, "assay push: lines %lld-%lld rejected as one message: %s\n",
                             static_cast<long long>(lines.empty() ? -1 : lines.front()),
                             static_cast<long long>(lines.empty() ? -1 : lines.back()),
                             ack->error.c_str());
            }
            for (const auto& r : ack->rejected) {
                int64_t line = r.index < lines.size() ? lines[r.index] : -1;
                std::fprintf(stderr, "assay push: line %lld rejected: %s\n",
                             static_cast<long long>(line), r.error.c_str());
            }
            if (ack->rejected_count(0) > ack->rejected.size() && ack->error.empty()) {
                std::fprintf(
                    stderr,
                    "assay push: ... and %llu more rejected lines of that message (each "
                    "kept in the store's dead_letters table)\n",
                    static_cast<unsigned long long>(ack->rejected_count(0) - ack->rejected.size()));
            }
            if (it->second.attempts == 1) {
                latencies_ms.push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - it->second.sent)
                        .count());
            }
            in_flight.erase(it);
        }
        // Resend what timed out (the worker may have restarted).
        const auto now = Clock::now();
        for (auto& [id, m] : in_flight) {
            if (now - m.sent >= std::chrono::milliseconds(a.timeout_ms)) {
                send(id, m);
                ++resent;
            }
        }
        if (a.deadline_ms > 0 && now - started > std::chrono::milliseconds(a.deadline_ms)) {
            std::fprintf(stderr, "assay push: deadline passed with %zu messages unacknowledged\n",
                         in_flight.size());
            return 1;
        }
    }
    double secs = std::chrono::duration<double>(Clock::now() - started).count();
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto pct = [&](double q) {
        return latencies_ms.empty() ? 0.0
                                    : latencies_ms[static_cast<size_t>(
                                          q * static_cast<double>(latencies_ms.size() - 1))];
    };
    std::printf(
        "assay push: %lld traces acknowledged (%lld accepted, %lld rejected), %lld resends, %.2f "
        "s, "
        "ack latency p50 %.1f ms p99 %.1f ms\n",
        static_cast<long long>(sent_traces), static_cast<long long>(accepted),
        static_cast<long long>(rejected), static_cast<long long>(resent), secs, pct(0.5),
        pct(0.99));
    return 0;
}

}  // namespace

void add_push_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<PushArgs>();
    CLI::App* c = app.add_subcommand(
        "push",
        "Send JSONL traces to a worker's ROUTER endpoint; exit 0 when all are acknowledged");
    c->add_option("--endpoint,-e", a->endpoint, "Worker ROUTER endpoint, e.g. tcp://127.0.0.1:5556")
        ->required();
    c->add_option("--in,-i", a->in, "Traces, one JSON object per line; - for stdin");
    c->add_option("--window", a->window, "Traces sent but not yet acknowledged, at most")
        ->check(CLI::Range(1, 10000000));
    c->add_option("--batch", a->batch, "Traces per message")->check(CLI::Range(1, 100000));
    c->add_option("--timeout-ms", a->timeout_ms, "Resend a message unacknowledged after this long")
        ->check(CLI::Range(10, 3600000));
    c->add_option("--deadline-ms", a->deadline_ms, "Give up (exit 1) after this long; 0 = never");
    c->add_option("--max-traces", a->max_traces, "Send only the first N traces (0 = all)");
    c->add_option("--rate", a->rate, "Offered load in traces/s (0 = as fast as the window allows)")
        ->check(CLI::Range(0.0, 10000000.0));
    c->callback([a, &run] { run = [a] { return run_push(*a); }; });
}

}  // namespace assay::cli
