#pragma once
// Config: everything `assay` reads from assay.yaml, ASSAY_* environment
// variables and flags, with precedence flag > environment > file > default.
// Every key and its default is listed in README.md ("Configuration").
// Unknown keys and wrong types are errors naming the key. Loaded once at
// startup; immutable afterwards.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/http_server.h"
#include "core/status.h"
#include "core/trace_json.h"
#include "llm/judge_spec.h"
#include "monitor/alert_config.h"
#include "pipeline/pipeline_options.h"
#include "pipeline/scorer_set.h"
#include "store/store.h"

namespace assay {

struct LogOptions {
    std::string level = "info";   // log.level: trace|debug|info|warn|error|off
    std::string format = "text";  // log.format: text|json
};

// `assay worker` (flags --zmq-pull / --zmq-router override the endpoints).
struct WorkerOptions {
    std::string zmq_pull;    // worker.zmq_pull: PULL endpoint, fire-and-forget ("" = off)
    std::string zmq_router;  // worker.zmq_router: ROUTER endpoint, acknowledged ("" = off)
    int flush_ms = 50;       // worker.flush_ms: a partial batch is committed after this long
    int zmq_rcvhwm = 10000;  // worker.zmq_rcvhwm: queued messages per socket before pushing back
    int64_t zmq_max_message_bytes = 64 << 20;    // worker.zmq_max_message_bytes
    int64_t zmq_max_traces_per_message = 10000;  // worker.zmq_max_traces_per_message
    std::string http_listen;           // worker.http_listen: /metrics, /healthz, /readyz ("" = off)
    int shutdown_deadline_ms = 30000;  // worker.shutdown_deadline_ms: drain limit after SIGTERM
    // OTLP/HTTP receiver (flag --otlp-listen overrides the address).
    std::string otlp_listen;  // worker.otlp_listen: HOST:PORT or PORT (loopback) for POST
                              // /v1/traces ("" = off)
    // OTLP/gRPC receiver (flag --otlp-grpc-listen overrides the address).
    std::string otlp_grpc_listen;  // worker.otlp_grpc_listen: HOST:PORT or PORT (loopback) for
                                   // TraceService/Export ("" = off; conventionally 4317)
    int64_t otlp_idle_ms =
        2000;  // worker.otlp_idle_ms: quiet time after a trace's last span before scoring
    int64_t otlp_max_wait_ms = 300000;  // worker.otlp_max_wait_ms: a trace still open this long
                                        // after its first span is scored as incomplete
    int64_t otlp_claim_lease_ms =
        60000;  // worker.otlp_claim_lease_ms: a worker's claim on a trace it completes from the
                // spans of every worker; after it, another worker may take the trace over
    int64_t otlp_max_body_bytes =
        8 << 20;  // worker.otlp_max_body_bytes: larger request bodies get 413
    int64_t otlp_max_pending_bytes =
        256 << 20;  // worker.otlp_max_pending_bytes: spans held past it -> 503 + Retry-After
    // worker.http_*: the limits of the ops and OTLP/HTTP servers (README "HTTP limits").
    HttpServerOptions http;
};

struct Config {
    std::string source;  // the file it came from, or "(built-in defaults)"
    StoreOptions store;
    std::string salt;  // sampler.salt
    ParseLimits ingest;
    PipelineOptions pipeline;
    WorkerOptions worker;
    LogOptions log;
    std::vector<JudgeSpec> judges;
    // `subject:`: the model `assay gate --prompt` calls (judge/subject_options.h
    // parses config_json); name "subject:<model>". Absent: no generate mode.
    std::optional<JudgeSpec> subject;
    std::vector<ConfiguredScorer> scorers;
    YAML::Node gate;  // the `gate:` block, parsed by `assay gate` (worker/gate/gate_rules.h)
    MonitoringConfig monitoring;  // alerts, retention, monitor (monitor/alert_config.h)
};

// Values given on the command line; unset ones fall through.
struct ConfigOverrides {
    std::optional<std::string> db;
    std::optional<std::string> salt;
    std::optional<std::string> log_level;
    std::optional<int> threads;
    std::optional<int> batch_size;
    // `assay worker` --zmq-pull, --zmq-router, --http-listen, --otlp-listen,
    // --otlp-grpc-listen
    // (an empty value leaves the config's).
    std::optional<std::string> zmq_pull;
    std::optional<std::string> zmq_router;
    std::optional<std::string> http_listen;
    std::optional<std::string> otlp_listen;
    std::optional<std::string> otlp_grpc_listen;
};

// Loads `path`; when `path` is empty, ./assay.yaml if it exists, else the
// built-in default scorer set (README "Configuration"). `env` is the
// environment to read ASSAY_* from (pass environ_map() in production).
// invalid_argument names the file and key; io_error names an unreadable file.
Result<Config> load_config(const std::string& path, const ConfigOverrides& flags,
                           const std::map<std::string, std::string>& env);
// Same, from YAML text (tests, built-in defaults). `base_dir` resolves paths.
Result<Config> load_config_text(const std::string& yaml, const std::string& source,
                                const std::string& base_dir, const ConfigOverrides& flags,
                                const std::map<std::string, std::string>& env);

// The process environment's ASSAY_* variables.
std::map<std::string, std::string> environ_map();

// One judge entry read from its own YAML file (a mapping with the keys of a
// `judges:` entry), checked as load_config checks `judges:` entries: e.g.
// `assay judges compare --candidate judge.yaml`. invalid_argument naming the
// file and the key, io_error when unreadable.
Result<JudgeSpec> load_judge_file(const std::string& path);

// Settings of the commands that read no config file (`assay review`,
// `calibrate`, `export`), with the same precedence: flag, else environment,
// else default.
// The store path: `flag`, else ASSAY_DB, else "assay.db".
std::string store_path_setting(const std::string& flag,
                               const std::map<std::string, std::string>& env);
// The review server's access token: `flag`, else ASSAY_REVIEW_TOKEN, else "".
std::string review_token_setting(const std::string& flag,
                                 const std::map<std::string, std::string>& env);
// How long a review login lasts, in seconds: `flag`, else
// ASSAY_REVIEW_SESSION_TTL, else 43200 (12 h). "N" or "Ns", "Nm", "Nh", "Nd";
// from 1 s to 30 days. invalid_argument naming the value and the range.
Result<int64_t> review_session_ttl_setting(const std::string& flag,
                                           const std::map<std::string, std::string>& env);
// Where browsers reach the review server (--public-url): `flag`, else
// ASSAY_REVIEW_PUBLIC_URL, else "" (review/public_url.h checks it).
std::string review_public_url_setting(const std::string& flag,
                                      const std::map<std::string, std::string>& env);

// The built-in default config (used when no file is given).
const char* default_config_yaml();

}  // namespace assay
