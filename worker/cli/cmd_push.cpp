// `assay push`: the reference acknowledged producer. Sends JSONL traces to
// one or more workers' ROUTER endpoints, keeps every unacknowledged message,
// resends it after --timeout-ms, and exits 0 only when every trace has been
// acknowledged. With several endpoints one DEALER connects to all of them and
// ZeroMQ spreads the messages over the workers it is connected to (only
// completed connections: ZMQ_IMMEDIATE), so a message a dead worker never
// acknowledged is resent to a live one.
// It never waits silently: on a terminal a progress line says what is sent,
// acknowledged and waiting; otherwise one line on stderr when no ack came for
// k_stall, 5 s (naming the endpoint and what is unacknowledged), and one when
// acks resume. Sends never block (a full ZeroMQ queue is retried later), so
// --deadline-ms always ends the run.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "cli/commands.h"
#include "ingest/jsonl_reader.h"
#include "ingest/zmq_protocol.h"

namespace assay::cli {

namespace {

struct PushArgs {
    std::vector<std::string> endpoints;
    std::string in = "-";
    int window = 1000;
    int batch = 100;
    int timeout_ms = 2000;
    int64_t deadline_ms = 0;
    double rate = 0;                  // traces per second; 0 = as fast as the window allows
    int64_t max_traces = 0;           // stop reading after this many; 0 = all
    size_t max_line_bytes = 4 << 20;  // --max-trace-bytes: the worker's ingest.max_trace_bytes
};

struct InFlight {
    std::vector<std::string> lines;
    std::vector<int64_t> line_numbers;
    std::chrono::steady_clock::time_point sent;
    int attempts = 0;
};

using Clock = std::chrono::steady_clock;

constexpr auto k_stall = std::chrono::milliseconds(5000);          // no ack this long: say so
constexpr auto k_progress_every = std::chrono::milliseconds(250);  // terminal progress refresh

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

int run_push(const PushArgs& a) {
    auto reader = JsonlReader::open(a.in, a.max_line_bytes);
    if (!reader.ok()) {
        std::fprintf(stderr, "assay push: %s\n", reader.status().message().c_str());
        return 2;
    }
    zmq::context_t ctx(1);
    zmq::socket_t sock(ctx, zmq::socket_type::dealer);
    sock.set(zmq::sockopt::linger, 0);
    if (a.endpoints.size() > 1) {
        // Queue only to workers it is connected to: a message is never
        // parked with a dead worker while live ones could take it.
        sock.set(zmq::sockopt::immediate, true);
    }
    // The endpoints as the messages name them.
    std::string targets;
    for (const std::string& e : a.endpoints) {
        try {
            sock.connect(e);
        } catch (const zmq::error_t& err) {
            std::fprintf(stderr, "assay push: cannot connect to '%s': %s\n", e.c_str(), err.what());
            return 2;
        }
        targets += (targets.empty() ? "" : ", ") + e;
    }
    std::map<std::string, InFlight> in_flight;  // by message id
    uint64_t next_id = 1;
    bool input_done = false;
    int64_t sent_traces = 0, accepted = 0, rejected = 0, resent = 0, too_large = 0;
    std::vector<double> latencies_ms;  // first send -> ack, for messages acked on their first try
    const auto started = Clock::now();
    // What the run is waiting for, for the progress line and the stall line.
    const bool tty = isatty(fileno(stderr)) == 1;
    auto last_ack = started;
    auto last_progress = started - k_progress_every;
    bool stall_reported = false;
    bool progress_shown = false;
    auto unacked_traces = [&] {
        size_t n = 0;
        for (const auto& [id, m] : in_flight) {
            n += m.lines.size();
        }
        return n;
    };
    auto waiting = [&] {
        char buf[256];
        std::snprintf(buf, sizeof buf, "%zu traces in %zu messages unacknowledged",
                      unacked_traces(), in_flight.size());
        return std::string(buf);
    };
    auto progress = [&] {
        const auto now = Clock::now();
        if (!tty || now - last_progress < k_progress_every) {
            return;
        }
        last_progress = now;
        progress_shown = true;
        const bool none = accepted + rejected == 0;
        std::fprintf(
            stderr, "\r\033[Kassay push: %s: %lld sent, %lld acknowledged, %s; %s %.0f s%s",
            targets.c_str(), static_cast<long long>(sent_traces),
            static_cast<long long>(accepted + rejected), waiting().c_str(),
            none ? "no ack yet after" : "last ack", seconds_since(last_ack), none ? "" : " ago");
        std::fflush(stderr);
    };
    auto end_progress = [&] {
        if (progress_shown) {
            std::fprintf(stderr, "\r\033[K");
            std::fflush(stderr);
        }
    };
    // Never blocks: with ZeroMQ's queue full (nobody reading) the message
    // stays in flight and is tried again after --timeout-ms.
    auto send = [&](const std::string& id, InFlight& m) {
        zmq::multipart_t msg;
        msg.addstr(id);
        for (const auto& l : m.lines) {
            msg.addstr(l);
        }
        m.sent = Clock::now();
        if (msg.send(sock, ZMQ_DONTWAIT)) {
            ++m.attempts;
        }
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
                if (rec.oversized) {
                    // Never send a cut line: the worker would store a prefix as if whole.
                    ++too_large;
                    end_progress();
                    std::fprintf(stderr,
                                 "assay push: line %lld not sent: it is %llu bytes, over "
                                 "--max-trace-bytes (%zu); set it to the worker's "
                                 "ingest.max_trace_bytes\n",
                                 static_cast<long long>(rec.line),
                                 static_cast<unsigned long long>(rec.full_bytes), a.max_line_bytes);
                    continue;
                }
                m.lines.push_back(std::move(rec.text));
                m.line_numbers.push_back(rec.line);
            }
            if (static_cast<int>(m.lines.size()) < a.batch) {
                input_done = true;
                if (!(*reader)->status().ok()) {
                    end_progress();
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
                end_progress();
                std::fprintf(stderr, "assay push: message %s: %s\n", id.c_str(),
                             ack.status().message().c_str());
                continue;
            }
            accepted += ack->accepted;
            const auto& lines = it->second.line_numbers;
            rejected += ack->rejected_count(static_cast<uint32_t>(lines.size()));
            if (!ack->error.empty()) {
                end_progress();
                std::fprintf(stderr, "assay push: lines %lld-%lld rejected as one message: %s\n",
                             static_cast<long long>(lines.empty() ? -1 : lines.front()),
                             static_cast<long long>(lines.empty() ? -1 : lines.back()),
                             ack->error.c_str());
            }
            for (const auto& r : ack->rejected) {
                int64_t line = r.index < lines.size() ? lines[r.index] : -1;
                end_progress();
                std::fprintf(stderr, "assay push: line %lld rejected: %s\n",
                             static_cast<long long>(line), r.error.c_str());
            }
            if (ack->rejected_count(0) > ack->rejected.size() && ack->error.empty()) {
                end_progress();
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
            if (stall_reported) {
                end_progress();
                std::fprintf(stderr, "assay push: acknowledgements from %s resumed after %.0f s\n",
                             targets.c_str(), seconds_since(last_ack));
                stall_reported = false;
            }
            last_ack = Clock::now();
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
            end_progress();
            std::fprintf(stderr, "assay push: --deadline-ms %lld passed with %s by %s\n",
                         static_cast<long long>(a.deadline_ms), waiting().c_str(), targets.c_str());
            return 1;
        }
        progress();
        if (!tty && !stall_reported && !in_flight.empty() && now - last_ack >= k_stall) {
            stall_reported = true;
            std::fprintf(
                stderr,
                "assay push: no acknowledgement from %s for %.0f s: %s (%lld acknowledged so far); "
                "resending every %d ms%s\n",
                targets.c_str(), seconds_since(last_ack), waiting().c_str(),
                static_cast<long long>(accepted + rejected), a.timeout_ms,
                a.deadline_ms > 0 ? "" : "; no --deadline-ms, so it waits until a worker answers");
        }
    }
    end_progress();
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
    if (too_large > 0) {
        std::printf("assay push: %lld lines not sent: over --max-trace-bytes (%zu)\n",
                    static_cast<long long>(too_large), a.max_line_bytes);
    }
    return 0;
}

}  // namespace

void add_push_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<PushArgs>();
    CLI::App* c = app.add_subcommand(
        "push",
        "Send JSONL traces to a worker's ROUTER endpoint; exit 0 when all are acknowledged");
    c->add_option("--endpoint,-e", a->endpoints,
                  "Worker ROUTER endpoint, e.g. tcp://127.0.0.1:5556; repeat it (or separate "
                  "with commas) to spread the traces over several workers")
        ->required()
        ->delimiter(',');
    c->add_option("--in,-i", a->in, "Traces, one JSON object per line; - for stdin");
    c->add_option("--window", a->window, "Traces sent but not yet acknowledged, at most")
        ->check(CLI::Range(1, 10000000));
    c->add_option("--batch", a->batch, "Traces per message")->check(CLI::Range(1, 100000));
    c->add_option("--timeout-ms", a->timeout_ms, "Resend a message unacknowledged after this long")
        ->check(CLI::Range(10, 3600000));
    c->add_option("--deadline-ms", a->deadline_ms, "Give up (exit 1) after this long; 0 = never");
    c->add_option("--max-traces", a->max_traces, "Send only the first N traces (0 = all)");
    c->add_option("--max-trace-bytes", a->max_line_bytes,
                  "Lines longer than this are not sent, and reported with their size; set it to "
                  "the worker's ingest.max_trace_bytes (default 4194304, its default)")
        ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
    c->add_option("--rate", a->rate, "Offered load in traces/s (0 = as fast as the window allows)")
        ->check(CLI::Range(0.0, 10000000.0));
    c->callback([a, &run] { run = [a] { return run_push(*a); }; });
}

}  // namespace assay::cli
