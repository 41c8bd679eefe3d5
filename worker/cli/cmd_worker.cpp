// `assay worker`: score production traffic continuously from ZeroMQ until
// SIGTERM or SIGINT, then drain (commit everything received, acknowledge it)
// and exit 0.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/config.h"
#include "ingest/otlp_service.h"
#include "ingest/zmq_intake.h"
#include "monitor/monitor_loop.h"
#include "judge/judge_metrics.h"
#include "judge/judge_stage.h"
#include "ops/ops_server.h"
#include "pipeline/pipeline.h"
#include "pipeline/prometheus.h"

namespace assay::cli {

namespace {

struct WorkerArgs {
    std::string config, db, zmq_pull, zmq_router, http_listen, otlp_listen, log_level;
};

std::atomic<bool>* g_stop = nullptr;

extern "C" void on_signal(int) {
    if (g_stop != nullptr) {
        g_stop->store(true);
    }
}

int run_worker(const WorkerArgs& a) {
    ConfigOverrides flags;
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    if (!a.log_level.empty()) {
        flags.log_level = a.log_level;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", cfg.status().message().c_str());
        return 2;
    }
    setup_logging(cfg->log);
    auto log = spdlog::get("ingest");
    ZmqIntakeOptions zopts;
    zopts.pull_endpoint = a.zmq_pull.empty() ? cfg->worker.zmq_pull : a.zmq_pull;
    zopts.router_endpoint = a.zmq_router.empty() ? cfg->worker.zmq_router : a.zmq_router;
    zopts.flush_ms = cfg->worker.flush_ms;
    zopts.rcvhwm = cfg->worker.zmq_rcvhwm;
    zopts.max_message_bytes = cfg->worker.zmq_max_message_bytes;
    const std::string otlp_listen = a.otlp_listen.empty() ? cfg->worker.otlp_listen : a.otlp_listen;
    if (zopts.pull_endpoint.empty() && zopts.router_endpoint.empty() && otlp_listen.empty()) {
        std::fprintf(stderr, "assay worker: no intake: give --zmq-router/--zmq-pull/--otlp-listen or worker.zmq_router/worker.zmq_pull/worker.otlp_listen\n");
        return 2;
    }
    auto store = open_store(cfg->store);
    if (!store.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", store.status().message().c_str());
        return 2;
    }
    if (Status st = (*store)->register_scorers(version_infos(cfg->scorers)); !st.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", st.message().c_str());
        return 2;
    }
    // OTLP/HTTP receiver (optional): reloads pending spans and starts serving.
    std::unique_ptr<OtlpService> otlp;
    if (!otlp_listen.empty()) {
        auto o = OtlpService::open(*cfg, otlp_listen);
        if (!o.ok()) {
            std::fprintf(stderr, "assay worker: --otlp-listen: %s\n", o.status().message().c_str());
            return 2;
        }
        otlp = std::move(*o);
    }
    auto judges = start_judge_stage(*cfg);  // its own thread and store connection
    if (!judges.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", judges.status().message().c_str());
        return 2;
    }
    ZmqIntake* intake_ptr = nullptr;
    Pipeline pipeline(*cfg, **store, [&intake_ptr, &otlp](const Pipeline::CommitReport& r) {
        if (intake_ptr != nullptr) {
            intake_ptr->on_commit(r);
        }
        if (otlp) {
            otlp->intake().on_commit(r);
        }
    });
    ZmqIntake intake(zopts, pipeline, cfg->ingest.max_trace_bytes);
    intake_ptr = &intake;
    if (otlp) {
        intake.set_tick([&otlp, &pipeline] { return otlp->intake().pump(pipeline, now_ms()); });
    }
    if (Status st = intake.open(); !st.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", st.message().c_str());
        return 2;
    }
    // Aggregates, alert rules, retention and /metrics quality gauges (monitor/).
    MonitorLoop monitor(cfg->monitoring, cfg->store.sqlite_path);
    if (Status st = monitor.start(); !st.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", st.message().c_str());
        return 2;
    }
    OpsServer ops([&pipeline, &intake, &otlp, &monitor, &judges] {
        auto c = intake.counters();
        return render_prometheus(pipeline.metrics(),
                                 IntakeCounters{c.messages, c.traces, c.bad_frames, c.acks_sent, c.pending_acks}) +
               (otlp ? otlp->intake().render_metrics() : std::string()) +
               (*judges ? render_judge_metrics((*judges)->metrics()) : std::string()) + monitor.metrics_text();
    });
    const std::string http = a.http_listen.empty() ? cfg->worker.http_listen : a.http_listen;
    auto same_address = [](const std::string& x, const std::string& y) {
        auto nx = normalize_otlp_listen(x), ny = normalize_otlp_listen(y);
        return nx.ok() && ny.ok() && *nx == *ny && nx->substr(nx->rfind(':')) != ":0";
    };
    if (!http.empty() && !otlp_listen.empty() && same_address(http, otlp_listen)) {
        std::fprintf(stderr, "assay worker: --otlp-listen and --http-listen must be different addresses\n");
        return 2;
    }
    if (!http.empty()) {
        if (Status st = ops.start(http); !st.ok()) {
            std::fprintf(stderr, "assay worker: --http-listen: %s\n", st.message().c_str());
            return 2;
        }
    }
    g_stop = &intake.stop_flag();
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    // One line on stdout that scripts can wait for.
    std::printf("assay worker: listening%s%s%s%s%s%s store=%s\n",
                intake.router_bound().empty() ? "" : " router=", intake.router_bound().c_str(),
                intake.pull_bound().empty() ? "" : " pull=", intake.pull_bound().c_str(),
                http.empty() ? "" : (" http=" + http.substr(0, http.rfind(':')) + ":" + std::to_string(ops.port())).c_str(),
                otlp ? (" otlp=" + otlp->bound()).c_str() : "",
                cfg->store.sqlite_path.c_str());
    std::fflush(stdout);
    ops.set_ready(true);
    // After SIGTERM the drain has shutdown_deadline_ms; past it the process
    // exits 3 (committed traces are safe; unacknowledged ones are resent by
    // acknowledged producers).
    std::atomic<bool> drained{false};
    std::thread watchdog([&] {
        while (!intake.stop_flag().load() && !drained.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg->worker.shutdown_deadline_ms);
        while (!drained.load()) {
            if (std::chrono::steady_clock::now() > deadline) {
                std::fprintf(stderr, "assay worker: drain did not finish within worker.shutdown_deadline_ms (%d ms)\n",
                             cfg->worker.shutdown_deadline_ms);
                std::_Exit(3);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    Status st = intake.run();
    if (otlp) {
        // Spans received from here on are stored and resumed after a restart.
        otlp->stop();
        otlp->intake().erase_committed();
    }
    if (*judges) {
        (*judges)->stop();  // calls in flight are cancelled; their tasks stay pending
    }
    drained.store(true);
    watchdog.join();
    ops.set_ready(false);
    ops.stop();
    monitor.stop();
    g_stop = nullptr;
    RunSummary s = pipeline.summary();
    log->info("stopped: {} records, {} stored, {} dead-lettered", s.records, s.accepted, s.rejected);
    if (!st.ok()) {
        std::fprintf(stderr, "assay worker: %s\n", st.message().c_str());
        return 2;
    }
    return 0;
}

}  // namespace

void add_worker_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<WorkerArgs>();
    CLI::App* c = app.add_subcommand("worker", "Score traffic continuously from ZeroMQ and OTLP/HTTP until SIGTERM");
    c->add_option("--config,-c", a->config, "Config file (default: ./assay.yaml, else built-in defaults)");
    c->add_option("--db", a->db, "SQLite store path (overrides store.sqlite)");
    c->add_option("--zmq-pull", a->zmq_pull, "PULL endpoint (fire-and-forget), e.g. tcp://127.0.0.1:5555; '>' prefix connects");
    c->add_option("--zmq-router", a->zmq_router, "ROUTER endpoint (acknowledged), e.g. tcp://127.0.0.1:5556");
    c->add_option("--http-listen", a->http_listen, "HOST:PORT for /metrics, /healthz, /readyz (e.g. 127.0.0.1:9464)");
    c->add_option("--otlp-listen", a->otlp_listen, "HOST:PORT or PORT (loopback) for OTLP/HTTP POST /v1/traces (e.g. 4318)");
    c->add_option("--log-level", a->log_level, "trace|debug|info|warn|error|off");
    c->callback([a, &run] { run = [a] { return run_worker(*a); }; });
}

}  // namespace assay::cli
