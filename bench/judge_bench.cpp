// judge_bench: throughput, rate-limit accuracy and CPU cost of the real
// JudgeClient (make_judge_client: libcurl multi, limits, retries) against the
// fake provider, which runs as a SEPARATE process (tests/fake_provider's
// `fake_provider` executable) so its CPU is never counted as the client's.
//
//   judge_bench [--fake PATH] [--rubric FILE] [--rounds 3] [--n 10000] [--concurrency 64]
//               [--latency-ms 100] [--rate-rounds 1] [--rate-n 3000] [--rpm 1200]
//               [--skip-throughput] [--skip-rate] [--check]
//
// 1. Throughput: `--n` requests, max_concurrency `--concurrency`, provider
//    latency `--latency-ms`, no rate limit. Reports judgements/s divided by
//    the ideal concurrency / latency (64 / 0.1 s = 640/s); target >= 0.9.
//    The reference measured in the same round: `--concurrency` plain
//    threads with kept-alive cpp-httplib connections sending the same
//    requests (what this machine and the fake deliver without the client),
//    so client/reference separates the client's cost from machine load.
// 2. Rate limit: `--rate-n` requests with requests_per_minute `--rpm` (same
//    concurrency and latency), a backlog all the way. Every request's start
//    is taken twice: the client's JudgeResult::started_at and the provider's
//    own arrival log (GET /_control/requests). Over the real 60 s window:
//    the most starts in any window (target <= rpm) and the fewest starts in
//    any full window inside the run, as a share of rpm (target >= 0.95).
// 3. CPU: getrusage(RUSAGE_SELF) user+sys / wall of this process over each
//    run, in % of one core; the target (<= 10%) applies at the rpm rate.
//    The process does what a worker does per judgement: builds the request
//    (rubric render + PII redaction, see request_source) and runs the client.
//
// Medians over rounds are printed; --check exits 1 when a target is missed.
// Exit 2 on usage or set-up errors (fake provider missing, rubric missing).

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/trace.h"
#include "judge/redact.h"
#include "judge/rubric.h"
#include "judge/rubric_render.h"
#include "llm/judge_client.h"

namespace assay {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    std::string fake = ASSAY_FAKE_PROVIDER_EXE;
    std::string rubric = ASSAY_SOURCE_DIR "/rubrics/helpfulness.yaml";
    int rounds = 3;
    int n = 10000;
    int concurrency = 64;
    int latency_ms = 100;
    int rate_rounds = 1;
    int rate_n = 3000;
    int rpm = 1200;
    bool skip_throughput = false;
    bool skip_rate = false;
    bool check = false;
};

// ---------------------------------------------------------------------------
// The request source: the i-th judge request of a run. It builds a sampled
// trace, redacts PII in it and renders the rubric, as the judge stage does
// before a call. This is the one function to point at the judge stage's own request
// builder once that lands.
using RequestSource = std::function<JudgeRequest(size_t)>;

// The i-th sampled trace: a ~300-byte question with an email and a phone
// number in it (redacted before sending) and a ~800-byte answer.
Trace bench_trace(size_t i) {
    Trace t;
    t.trace_id = "bench-" + std::to_string(i);
    t.input = "Customer " + std::to_string(i) +
              " asks: how do I rotate the API key of my team's account without downtime? "
              "Reply to ops" +
              std::to_string(i % 97) + "@acme-corp.io or call +44 20 7946 " +
              std::to_string(1000 + i % 9000) + ".";
    t.output = "Thanks for asking (ticket " + std::to_string(100000 + i) + "). ";
    for (int k = 0; k < 6; ++k) {
        t.output += "Step " + std::to_string(k + 1) +
                    ": create a second key, deploy it next to the old one, watch the error "
                    "rate for a while, then revoke the old key in the console. ";
    }
    return t;
}

// `rubric` must render bench_trace(i) (checked once at start-up).
RequestSource make_request_source(Rubric rubric) {
    return [rubric = std::move(rubric)](size_t i) {
        // Redact the trace's values, then render (see judge/redact.h for why
        // not the rendered prompt).
        Trace t = bench_trace(i);
        t.input = redact_pii(t.input, RedactOptions{}).text;
        t.output = redact_pii(t.output, RedactOptions{}).text;
        auto rendered = render(rubric, t);
        JudgeRequest r;
        r.system = std::string(judge_system_message());
        r.user = rendered.ok() ? rendered.value() : t.output;
        r.id = t.trace_id;
        return r;
    };
}
// ---------------------------------------------------------------------------

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto tv = [](const timeval& v) { return double(v.tv_sec) + double(v.tv_usec) / 1e6; };
    return tv(u.ru_utime) + tv(u.ru_stime);
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0.0;
    }
    std::sort(v.begin(), v.end());
    const size_t m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// The fake provider as a child process on 127.0.0.1, port 0.
class FakeProcess {
public:
    ~FakeProcess() { stop(); }

    // Starts it and reads "listening 127.0.0.1:PORT"; false with a message.
    bool start(const std::string& exe, int latency_ms, std::string& error) {
        int fds[2];
        if (pipe(fds) != 0) {
            error = "pipe() failed";
            return false;
        }
        const std::string latency = std::to_string(latency_ms);
        m_pid = fork();
        if (m_pid < 0) {
            error = "fork() failed";
            return false;
        }
        if (m_pid == 0) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
            execl(exe.c_str(), exe.c_str(), "--latency-ms", latency.c_str(), "--threads", "256",
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        close(fds[1]);
        FILE* out = fdopen(fds[0], "r");
        char line[256] = {0};
        const bool got = out != nullptr && fgets(line, sizeof line, out) != nullptr;
        if (out != nullptr) {
            fclose(out);
        }
        const std::string s(line);
        const size_t colon = s.rfind(':');
        if (!got || s.rfind("listening ", 0) != 0 || colon == std::string::npos) {
            error = "fake provider '" + exe + "' did not start (got '" + s + "')";
            stop();
            return false;
        }
        m_port = std::atoi(s.c_str() + colon + 1);
        return m_port > 0;
    }

    void stop() {
        if (m_pid > 0) {
            kill(m_pid, SIGTERM);
            int status = 0;
            waitpid(m_pid, &status, 0);
            m_pid = -1;
        }
    }

    int port() const { return m_port; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

private:
    pid_t m_pid = -1;
    int m_port = 0;
};

// Arrival times (ms since the epoch) of the API requests the provider saw
// since its last reset; nullopt when the control endpoint fails.
std::optional<std::vector<std::int64_t>> provider_arrivals(int port) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    auto res = c.Get("/_control/requests");
    if (!res || res->status != 200) {
        return std::nullopt;
    }
    std::vector<std::int64_t> out;
    try {
        const auto j = nlohmann::json::parse(res->body);
        for (const auto& r : j.at("requests")) {
            out.push_back(r.at("arrival_ms").get<std::int64_t>());
        }
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The provider's most concurrent requests since its last reset (-1: unknown).
long provider_max_in_flight(int port) {
    httplib::Client c("127.0.0.1", port);
    auto res = c.Get("/_control/counters");
    if (!res || res->status != 200) {
        return -1;
    }
    try {
        return nlohmann::json::parse(res->body).at("max_in_flight").get<long>();
    } catch (const nlohmann::json::exception&) {
        return -1;
    }
}

bool provider_reset(int port) {
    httplib::Client c("127.0.0.1", port);
    auto res = c.Post("/_control/reset", "", "application/json");
    return res && res->status == 200;
}

struct RunStats {
    double wall_s = 0.0;
    double cpu_s = 0.0;
    size_t ok = 0;
    size_t failed = 0;
    std::string first_error;
    std::vector<double> starts_s;  // client-side first-attempt starts, seconds since t0, sorted
    std::vector<double> latency_ms;
};

// Submits `n` requests from `source`, keeping at most `window` outstanding
// (a worker pulling from its pending queue), and waits for every result.
RunStats run_load(JudgeClient& client, const RequestSource& source, size_t n, size_t window) {
    std::mutex mu;
    std::condition_variable cv;
    size_t outstanding = 0;
    size_t done = 0;
    RunStats st;
    std::vector<Clock::time_point> starts;
    starts.reserve(n);
    st.latency_ms.reserve(n);

    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
        JudgeRequest req = source(i);
        {
            std::unique_lock<std::mutex> lk(mu);
            cv.wait(lk, [&] { return outstanding < window; });
            ++outstanding;
        }
        client.submit(std::move(req), [&](JudgeResult r) {
            std::lock_guard<std::mutex> lk(mu);
            if (r.ok()) {
                ++st.ok;
                st.latency_ms.push_back(r.latency_ms);
            } else {
                ++st.failed;
                if (st.first_error.empty()) {
                    st.first_error = std::string(to_string(r.error)) + ": " + r.status.message();
                }
            }
            if (r.attempts > 0) {
                starts.push_back(r.started_at);
            }
            --outstanding;
            ++done;
            cv.notify_all();
        });
    }
    {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return done == n; });
    }
    const auto t1 = Clock::now();
    st.cpu_s = cpu_seconds() - cpu0;
    st.wall_s = std::chrono::duration<double>(t1 - t0).count();
    std::sort(starts.begin(), starts.end());
    for (const auto& s : starts) {
        st.starts_s.push_back(std::chrono::duration<double>(s - t0).count());
    }
    return st;
}

// The reference measured in the same run: `concurrency` plain threads, each
// with one kept-alive cpp-httplib connection, POSTing the same requests to
// the same fake provider back to back (no limits, retries or event loop).
// Returns requests per second; 0 when a request failed.
double reference_run(const Args& a, int port, const RequestSource& source, size_t n) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (int t = 0; t < a.concurrency; ++t) {
        threads.emplace_back([&] {
            httplib::Client c("127.0.0.1", port);
            c.set_keep_alive(true);
            c.set_read_timeout(30, 0);
            // Like the client: no Accept-Encoding, so replies come uncompressed.
            const httplib::Headers headers = {
                {"Authorization", "Bearer sk-judge-bench-not-a-secret"}};
            for (size_t i = next++; i < n; i = next++) {
                const JudgeRequest r = source(i);
                const nlohmann::json body = {{"model", "gpt-4o-mini-2024-07-18"},
                                             {"temperature", 0},
                                             {"max_tokens", 512},
                                             {"messages",
                                              {{{"role", "system"}, {"content", r.system}},
                                               {{"role", "user"}, {"content", r.user}}}}};
                auto res = c.Post("/v1/chat/completions", headers, body.dump(), "application/json");
                if (!res || res->status != 200) {
                    failed = true;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    return failed ? 0.0 : double(n) / wall;
}

Result<std::unique_ptr<JudgeClient>> make_client(const Args& a, const std::string& base, int rpm) {
    JudgeOptions o;
    o.name = "bench";
    o.provider = JudgeProvider::openai;
    o.base_url = base + "/v1";
    o.model = "gpt-4o-mini-2024-07-18";
    o.api_key_env = "ASSAY_JUDGE_BENCH_KEY";
    o.max_concurrency = a.concurrency;
    o.requests_per_minute = rpm;
    o.timeout_ms = 30000;
    o.max_retries = 4;
    o.rng_seed = 1;
    return make_judge_client(std::move(o));
}

// Window statistics over sorted start times (seconds): the most starts in
// any [t, t + w) window, and the fewest starts in a full window [t_i, t_i + w)
// that lies inside [first, last] (the backlog period), -1 when the run is
// shorter than w.
struct WindowStats {
    size_t max_in_window = 0;
    long min_full_window = -1;
};

WindowStats windows(const std::vector<double>& s, double w) {
    WindowStats ws;
    if (s.empty()) {
        return ws;
    }
    // Max: every window's count is bounded by one that starts at a start.
    size_t j = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        j = std::max(j, i);
        while (j < s.size() && s[j] < s[i] + w) {
            ++j;
        }
        ws.max_in_window = std::max(ws.max_in_window, j - i);
        if (s[i] + w <= s.back()) {
            const long c = static_cast<long>(j - i);
            ws.min_full_window = ws.min_full_window < 0 ? c : std::min(ws.min_full_window, c);
        }
    }
    return ws;
}

int usage(const std::string& why) {
    std::cerr << "judge_bench: " << why << "\n"
              << "usage: judge_bench [--fake PATH] [--rubric FILE] [--rounds N] [--n N] "
                 "[--concurrency N] "
                 "[--latency-ms N] [--rate-rounds N] [--rate-n N] [--rpm N] [--skip-throughput] "
                 "[--skip-rate] [--check]\n";
    return 2;
}

int run(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up while it runs
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string f = argv[i];
        auto num = [&](int& out) {
            if (i + 1 >= argc) {
                return false;
            }
            char* end = nullptr;
            const long v = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || v <= 0 || v > 100000000) {
                return false;
            }
            out = static_cast<int>(v);
            return true;
        };
        bool ok = true;
        if (f == "--fake" && i + 1 < argc) {
            a.fake = argv[++i];
        } else if (f == "--rubric" && i + 1 < argc) {
            a.rubric = argv[++i];
        } else if (f == "--rounds") {
            ok = num(a.rounds);
        } else if (f == "--n") {
            ok = num(a.n);
        } else if (f == "--concurrency") {
            ok = num(a.concurrency);
        } else if (f == "--latency-ms") {
            ok = num(a.latency_ms);
        } else if (f == "--rate-rounds") {
            ok = num(a.rate_rounds);
        } else if (f == "--rate-n") {
            ok = num(a.rate_n);
        } else if (f == "--rpm") {
            ok = num(a.rpm);
        } else if (f == "--skip-throughput") {
            a.skip_throughput = true;
        } else if (f == "--skip-rate") {
            a.skip_rate = true;
        } else if (f == "--check") {
            a.check = true;
        } else {
            return usage("unknown or incomplete flag '" + f + "'");
        }
        if (!ok) {
            return usage(f + ": expected a positive integer");
        }
    }
    setenv("ASSAY_JUDGE_BENCH_KEY", "sk-judge-bench-not-a-secret", 1);
    auto rubric = load_rubric(a.rubric);
    if (!rubric.ok()) {
        return usage("rubric: " + rubric.status().message());
    }
    if (auto probe = render(rubric.value(), bench_trace(0)); !probe.ok()) {
        return usage("rubric " + a.rubric + ": " + probe.status().message());
    }
    const RequestSource source = make_request_source(std::move(rubric).value());
    FakeProcess fake;
    std::string error;
    if (!fake.start(a.fake, a.latency_ms, error)) {
        return usage(error);
    }
    const size_t window = static_cast<size_t>(a.concurrency) * 4;
    bool pass = true;
    std::printf(
        "judge_bench: fake provider %s (separate process), latency %d ms, max_concurrency %d\n",
        fake.base_url().c_str(), a.latency_ms, a.concurrency);

    if (!a.skip_throughput) {
        const double ideal = a.concurrency / (a.latency_ms / 1000.0);
        std::vector<double> ratios, rates, cpus, p50s, refs, vs_ref;
        for (int r = 0; r < a.rounds; ++r) {
            provider_reset(fake.port());
            const double ref = reference_run(a, fake.port(), source, static_cast<size_t>(a.n));
            refs.push_back(ref);
            provider_reset(fake.port());
            auto client = make_client(a, fake.base_url(), 0);
            if (!client.ok()) {
                return usage(client.status().message());
            }
            const RunStats st = run_load(*client.value(), source, static_cast<size_t>(a.n), window);
            const double rate = double(st.ok) / st.wall_s;
            ratios.push_back(rate / ideal);
            rates.push_back(rate);
            cpus.push_back(100.0 * st.cpu_s / st.wall_s);
            p50s.push_back(median(st.latency_ms));
            vs_ref.push_back(ref > 0 ? rate / ref : 0.0);
            std::printf("  client: %llu connections opened, provider max in flight %ld\n",
                        static_cast<unsigned long long>(client.value()->status().connections),
                        provider_max_in_flight(fake.port()));
            std::printf(
                "  throughput round %d: %zu ok, %zu failed%s%s, %.2f s, %.1f judgements/s, ratio "
                "%.3f; "
                "reference (plain threads) %.1f/s, client/reference %.3f; p50 latency %.1f ms, cpu "
                "%.1f%% of a core\n",
                r + 1, st.ok, st.failed, st.first_error.empty() ? "" : " — ",
                st.first_error.c_str(), st.wall_s, rate, rate / ideal, ref, vs_ref.back(),
                p50s.back(), cpus.back());
            if (st.failed > 0) {
                pass = false;
            }
        }
        const double ratio = median(ratios);
        std::printf(
            "THROUGHPUT median of %d: %.1f judgements/s vs ideal %.0f/s (= %d / %.3f s): ratio "
            "%.3f "
            "(target >= 0.9) %s; reference %.1f/s (%.3f of ideal), client/reference %.3f; p50 "
            "latency %.1f ms; cpu %.1f%% of a core\n",
            a.rounds, median(rates), ideal, a.concurrency, a.latency_ms / 1000.0, ratio,
            ratio >= 0.9 ? "OK" : "MISSED", median(refs), median(refs) / ideal, median(vs_ref),
            median(p50s), median(cpus));
        pass = pass && ratio >= 0.9;
    }

    if (!a.skip_rate) {
        std::vector<double> utils_client, utils_provider, cpus, rates;
        size_t worst_client = 0;
        size_t worst_provider = 0;
        for (int r = 0; r < a.rate_rounds; ++r) {
            provider_reset(fake.port());
            auto client = make_client(a, fake.base_url(), a.rpm);
            if (!client.ok()) {
                return usage(client.status().message());
            }
            const RunStats st =
                run_load(*client.value(), source, static_cast<size_t>(a.rate_n), window);
            const WindowStats wc = windows(st.starts_s, 60.0);
            std::vector<double> arrivals_s;
            if (auto arr = provider_arrivals(fake.port())) {
                for (auto ms : *arr) {
                    arrivals_s.push_back(double(ms - arr->front()) / 1000.0);
                }
            } else {
                std::printf("  (provider request log unavailable)\n");
                pass = false;
            }
            const WindowStats wp = windows(arrivals_s, 60.0);
            const double uc = double(wc.min_full_window) / a.rpm;
            const double up = double(wp.min_full_window) / a.rpm;
            const double span =
                st.starts_s.empty() ? 0.0 : st.starts_s.back() - st.starts_s.front();
            const double steady = span > 0 ? double(st.starts_s.size() - 1) / span * 60.0 : 0.0;
            worst_client = std::max(worst_client, wc.max_in_window);
            worst_provider = std::max(worst_provider, wp.max_in_window);
            utils_client.push_back(uc);
            utils_provider.push_back(up);
            cpus.push_back(100.0 * st.cpu_s / st.wall_s);
            rates.push_back(steady);
            std::printf(
                "  rate round %d: %zu ok, %zu failed%s%s, %.1f s; starts in any 60 s window: max "
                "%zu "
                "(client) / %zu (provider log, %zu requests); fewest in a full window: %ld (%.3f "
                "of "
                "%d) client / %ld (%.3f) provider; mean rate %.1f/min; cpu %.2f%% of a core\n",
                r + 1, st.ok, st.failed, st.first_error.empty() ? "" : " — ",
                st.first_error.c_str(), st.wall_s, wc.max_in_window, wp.max_in_window,
                arrivals_s.size(), wc.min_full_window, uc, a.rpm, wp.min_full_window, up, steady,
                cpus.back());
            if (st.failed > 0 || wc.min_full_window < 0) {
                pass = false;
            }
        }
        const double uc = median(utils_client);
        const double up = median(utils_provider);
        const double cpu = median(cpus);
        const bool window_ok = worst_client <= size_t(a.rpm) && worst_provider <= size_t(a.rpm);
        const bool util_ok = uc >= 0.95 && up >= 0.95;
        const bool cpu_ok = cpu <= 10.0;
        std::printf(
            "RATE median of %d (rpm %d, %d requests): max starts in any 60 s window %zu client / "
            "%zu "
            "provider (target <= %d) %s; rate used while backlogged %.3f client / %.3f provider "
            "(target >= 0.95) %s; mean %.1f/min\n",
            a.rate_rounds, a.rpm, a.rate_n, worst_client, worst_provider, a.rpm,
            window_ok ? "OK" : "MISSED", uc, up, util_ok ? "OK" : "MISSED", median(rates));
        std::printf(
            "CPU at %d requests/min: %.2f%% of a core (user+sys / wall; target <= 10%%) %s\n",
            a.rpm, cpu, cpu_ok ? "OK" : "MISSED");
        pass = pass && window_ok && util_ok && cpu_ok;
    }
    fake.stop();
    if (a.check && !pass) {
        std::printf("judge_bench --check: a target was missed\n");
        return 1;
    }
    return 0;
}

}  // namespace
}  // namespace assay

int main(int argc, char** argv) { return assay::run(argc, argv); }
