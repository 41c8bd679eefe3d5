// `assay worker`: flags and signals; the worker itself is daemon/worker.h.
// Scores production traffic continuously until SIGTERM or SIGINT, then
// drains (commits everything received, acknowledges it) and exits 0.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/config.h"
#include "daemon/worker.h"

namespace assay::cli {

namespace {

struct WorkerArgs {
    std::string config, db, zmq_pull, zmq_router, http_listen, otlp_listen, otlp_grpc_listen,
        log_level;
};

std::atomic<bool>* g_stop = nullptr;

extern "C" void on_signal(int) {
    if (g_stop != nullptr) {
        g_stop->store(true);
    }
}

int worker_main(const WorkerArgs& a) {
    ConfigOverrides flags;
    flags.db = a.db.empty() ? std::nullopt : std::optional<std::string>(a.db);
    flags.log_level = a.log_level.empty() ? std::nullopt : std::optional<std::string>(a.log_level);
    flags.zmq_pull = a.zmq_pull;
    flags.zmq_router = a.zmq_router;
    flags.http_listen = a.http_listen;
    flags.otlp_listen = a.otlp_listen;
    flags.otlp_grpc_listen = a.otlp_grpc_listen;
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", cfg.status().message().c_str());
        return 2;
    }
    setup_logging(cfg->log);
    std::atomic<bool> stop{false};
    g_stop = &stop;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    Status st = run_worker(*cfg, stop, [](const std::string& line) {
        std::printf("%s\n", line.c_str());  // one line on stdout that scripts can wait for
        std::fflush(stdout);
    });
    g_stop = nullptr;
    if (!st.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", st.message().c_str());
        return 2;
    }
    return 0;
}

}  // namespace

void add_worker_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<WorkerArgs>();
    CLI::App* c = app.add_subcommand(
        "worker", "Score traffic continuously from ZeroMQ and OTLP/HTTP until SIGTERM");
    c->add_option("--config,-c", a->config,
                  "Config file (default: ./assay.yaml, else built-in defaults)");
    c->add_option("--db", a->db, "SQLite store path (overrides store.sqlite)");
    c->add_option(
        "--zmq-pull", a->zmq_pull,
        "PULL endpoint (fire-and-forget), e.g. tcp://127.0.0.1:5555; '>' prefix connects");
    c->add_option("--zmq-router", a->zmq_router,
                  "ROUTER endpoint (acknowledged), e.g. tcp://127.0.0.1:5556");
    c->add_option("--http-listen", a->http_listen,
                  "HOST:PORT for /metrics, /healthz, /readyz (e.g. 127.0.0.1:9464)");
    c->add_option("--otlp-listen", a->otlp_listen,
                  "HOST:PORT or PORT (loopback) for OTLP/HTTP POST /v1/traces (e.g. 4318)");
    c->add_option("--otlp-grpc-listen", a->otlp_grpc_listen,
                  "HOST:PORT or PORT (loopback) for OTLP/gRPC TraceService/Export (e.g. 4317)");
    c->add_option("--log-level", a->log_level, "trace|debug|info|warn|error|off");
    c->callback([a, &run] { run = [a] { return worker_main(*a); }; });
}

}  // namespace assay::cli
