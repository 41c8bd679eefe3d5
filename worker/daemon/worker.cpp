#include "daemon/worker.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "config/component_options.h"
#include "daemon/ops_server.h"
#include "ingest/otlp/source.h"
#include "ingest/zmq_intake.h"
#include "judge/judge_metrics.h"
#include "judge/judge_stage.h"
#include "monitor/monitor_loop.h"
#include "pipeline/pipeline.h"
#include "pipeline/prometheus.h"
#include "store/store_location.h"

namespace assay {

namespace {

// One source's door into the pipeline: its records carry its number.
class SourceSink final : public RecordSink {
public:
    SourceSink(Pipeline& pipeline, uint32_t source) : m_pipeline(pipeline), m_source(source) {}
    Status submit(RawRecord record, uint64_t tag) override {
        return m_pipeline.submit(std::move(record), RecordOrigin{m_source, tag});
    }

private:
    Pipeline& m_pipeline;
    uint32_t m_source;
};

// Hands each source the outcomes of its own records in a committed chunk.
void route_commit(const Pipeline::CommitReport& r, const std::vector<TraceSource*>& sources) {
    std::vector<std::vector<uint64_t>> tags(sources.size());
    std::vector<std::vector<std::string>> errors(sources.size());
    for (size_t i = 0; i < r.origins.size(); ++i) {
        const uint32_t s = r.origins[i].source;
        if (s < sources.size()) {
            tags[s].push_back(r.origins[i].tag);
            errors[s].push_back(r.errors[i]);
        }
    }
    for (size_t s = 0; s < sources.size(); ++s) {
        if (!tags[s].empty()) {
            sources[s]->committed(tags[s], errors[s]);
        }
    }
}

bool same_address(const std::string& x, const std::string& y) {
    auto nx = normalize_otlp_listen(x), ny = normalize_otlp_listen(y);
    return nx.ok() && ny.ok() && *nx == *ny && nx->substr(nx->rfind(':')) != ":0";
}

}  // namespace

Status run_worker(const Config& cfg, const std::atomic<bool>& stop,
                  const std::function<void(const std::string& line)>& on_ready) {
    const WorkerOptions& w = cfg.worker;
    if (w.zmq_pull.empty() && w.zmq_router.empty() && w.otlp_listen.empty() &&
        w.otlp_grpc_listen.empty()) {
        return Status::invalid_argument(
            "no intake: give --zmq-router/--zmq-pull/--otlp-listen/--otlp-grpc-listen or "
            "worker.zmq_router/worker.zmq_pull/worker.otlp_listen/worker.otlp_grpc_listen");
    }
    for (const std::string& other : {w.http_listen, w.otlp_listen}) {
        if (!other.empty() && !w.otlp_grpc_listen.empty() &&
            same_address(other, w.otlp_grpc_listen)) {
            return Status::invalid_argument(
                "--otlp-grpc-listen must differ from --otlp-listen and --http-listen");
        }
    }
    if (!w.http_listen.empty() && !w.otlp_listen.empty() &&
        same_address(w.http_listen, w.otlp_listen)) {
        return Status::invalid_argument(
            "--otlp-listen and --http-listen must be different addresses");
    }
    auto store = open_store(cfg.store);
    if (!store.ok()) {
        return store.status();
    }
    ASSAY_RETURN_IF_ERROR((*store)->register_scorers(version_infos(cfg.scorers)));

    // The sources, numbered by their place in `sources`.
    std::vector<std::unique_ptr<TraceSource>> owned;
    std::vector<TraceSource*> sources;
    if (!w.zmq_pull.empty() || !w.zmq_router.empty()) {
        auto zmq = std::make_unique<ZmqIntake>(zmq_intake_options(cfg), cfg.ingest.max_trace_bytes);
        ASSAY_RETURN_IF_ERROR(zmq->open());
        sources.push_back(zmq.get());
        owned.push_back(std::move(zmq));
    }
    if (!w.otlp_listen.empty() || !w.otlp_grpc_listen.empty()) {
        auto otlp = OtlpSource::open(otlp_intake_options(cfg), w.http, cfg.store, w.otlp_listen,
                                     w.otlp_grpc_listen);
        if (!otlp.ok()) {
            return otlp.status();
        }
        sources.push_back(otlp->get());
        owned.push_back(std::move(otlp).value());
    }

    auto judges = start_judge_stage(cfg.store, cfg.judges,
                                    cfg.scorers);  // its own thread and store connection
    if (!judges.ok()) {
        return judges.status();
    }
    JudgeStage* judge_stage = judges->get();
    PipelineSetup setup = pipeline_setup(cfg);
    setup.options.wait_for_store_lock = true;  // a busy store never stops the worker
    Pipeline pipeline(setup, **store, [&sources, judge_stage](const Pipeline::CommitReport& r) {
        if (judge_stage != nullptr) {
            judge_stage->offer(std::move(r.queued_for_judge));
        }
        route_commit(r, sources);
    });
    std::vector<SourceSink> sinks;
    for (size_t i = 0; i < sources.size(); ++i) {
        sinks.emplace_back(pipeline, static_cast<uint32_t>(i));
    }

    // Aggregates, alert rules, retention and /metrics quality gauges.
    MonitorLoop monitor(cfg.monitoring, cfg.store.sqlite_path);
    ASSAY_RETURN_IF_ERROR(monitor.start());
    OpsServer ops(
        [&] {
            std::string out = render_prometheus(pipeline.metrics());
            for (const TraceSource* s : sources) {
                out += s->metrics_text();
            }
            return out + (*judges ? render_judge_metrics((*judges)->metrics()) : std::string()) +
                   monitor.metrics_text();
        },
        w.http);
    if (!w.http_listen.empty()) {
        if (Status st = ops.start(w.http_listen); !st.ok()) {
            return Status(st.code(), "--http-listen: " + st.message());
        }
    }

    std::string line = "assay worker: listening";
    for (const TraceSource* s : sources) {
        line += " " + s->describe();
    }
    if (!w.http_listen.empty()) {
        line += " http=" + w.http_listen.substr(0, w.http_listen.rfind(':')) + ":" +
                std::to_string(ops.port());
    }
    line += " store=" + mask_store_location(cfg.store.sqlite_path);
    on_ready(line);
    ops.set_ready(true);

    // After a stop the drain has shutdown_deadline_ms.
    std::atomic<bool> drained{false};
    std::thread watchdog([&] {
        while (!stop.load() && !drained.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(w.shutdown_deadline_ms);
        while (!drained.load()) {
            if (std::chrono::steady_clock::now() > deadline) {
                std::fprintf(stderr,
                             "assay worker: drain did not finish within "
                             "worker.shutdown_deadline_ms (%d ms)\n",
                             w.shutdown_deadline_ms);
                std::_Exit(3);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });

    // The producer loop: short waits keep ack latency and batch age bounded
    // by worker.flush_ms. The first source waits for input; the others are
    // only polled.
    const auto wait = std::chrono::milliseconds(std::max(1, std::min(10, w.flush_ms)));
    Status error;
    while (!stop.load() && error.ok()) {
        for (size_t i = 0; i < sources.size() && error.ok(); ++i) {
            error = sources[i]->poll(sinks[i], i == 0 ? wait : std::chrono::milliseconds(0));
        }
        pipeline.flush_if_older(w.flush_ms);
        ops.set_ready(!pipeline.store_blocked());  // /readyz: 503 while the store is locked
    }
    // Drain: commit everything received, then answer it.
    Status finished = pipeline.finish();
    for (TraceSource* s : sources) {
        s->finish();
    }
    if (*judges) {
        (*judges)->stop();  // calls in flight are cancelled; their tasks stay pending
    }
    drained.store(true);
    watchdog.join();
    ops.set_ready(false);
    ops.stop();
    monitor.stop();
    RunSummary s = pipeline.summary();
    spdlog::get("ingest")->info("stopped: {} records, {} stored, {} dead-lettered", s.records,
                                s.accepted, s.rejected);
    return finished.ok() ? error : finished;
}

}  // namespace assay
