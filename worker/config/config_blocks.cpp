#include "config/config_blocks.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <type_traits>

#include "core/yaml_keys.h"
#include "judge/judge_options.h"
#include "judge/subject_options.h"
#include "store/store_location.h"

namespace assay {

namespace {

const std::set<std::string> k_providers = {"openai", "anthropic"};

// worker.http_*: the limits every worker HTTP server (ops, OTLP/HTTP) holds
// to (core/http_server.h). Each value must lie in [lo, hi].
void parse_http_limits(ConfigBlock& b, HttpServerOptions& o) {
    auto bounded = [&b](const char* key, int64_t lo, int64_t hi, auto& field) {
        if (auto v = b.get_int(key)) {
            if (*v < lo || *v > hi) {
                b.fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
            }
            field = static_cast<std::remove_reference_t<decltype(field)>>(*v);
        }
    };
    bounded("http_max_connections", 1, 100000, o.max_connections);
    bounded("http_max_connections_per_ip", 1, 100000, o.max_connections_per_ip);
    bounded("http_max_header_bytes", 1024, 1 << 20, o.max_header_bytes);
    bounded("http_max_headers", 1, 10000, o.max_headers);
    bounded("http_header_timeout_ms", 100, 3600000, o.header_timeout_ms);
    bounded("http_body_timeout_ms", 100, 3600000, o.body_timeout_ms);
    bounded("http_idle_timeout_ms", 1000, 3600000, o.idle_timeout_ms);
}

Status parse_judges(const YAML::Node& node, const std::string& base_dir,
                    std::vector<JudgeSpec>& out) {
    if (!node || node.IsNull()) {
        return {};
    }
    if (!node.IsSequence()) {
        return Status::invalid_argument("key 'judges': expected a list of judge entries");
    }
    for (size_t i = 0; i < node.size(); ++i) {
        ConfigBlock b(node[i], "judges[" + std::to_string(i) + "]", base_dir);
        JudgeSpec j;
        j.name = b.get_string("name").value_or("");
        j.provider = b.get_string("provider").value_or("");
        j.model = b.get_string("model").value_or("");
        b.get_string("base_url");
        auto env = b.get_string("api_key_env");
        if (env && env->rfind("sk-", 0) == 0) {
            b.fail("api_key_env",
                   "names an environment variable; never put the key itself in config");
        }
        b.get_node("temperature");  // a number or 'default' (judge_options.cpp checks)
        b.get_int("max_tokens");
        b.get_string("api");
        b.get_string("max_tokens_field");
        b.get_string("reasoning_effort");
        b.get_int("thinking_budget_tokens");
        b.get_int("max_tokens_on_truncation");
        b.get_int("max_concurrency");
        b.get_double("requests_per_minute");
        b.get_double("tokens_per_minute");
        b.get_int("timeout_ms");
        b.get_int("connect_timeout_ms");
        b.get_int("max_retries");
        b.get_int("max_retry_after_ms");
        b.get_bool("json_response_format");
        b.get_bool("structured_output");
        b.get_bool("cache");
        b.get_node("redact");
        b.get_double("daily_budget_usd");
        if (auto price = b.get_node("price")) {
            ConfigBlock p(*price, b.where() + ".price", base_dir);
            p.get_double("input_per_mtok");
            p.get_double("output_per_mtok");
            p.get_double("cached_input_per_mtok");
            ASSAY_RETURN_IF_ERROR(p.finish());
        }
        if (auto headers = b.get_node("headers")) {
            if (!headers->IsMap()) {
                b.fail("headers", "expected a mapping of header names to values");
            }
        }
        if (j.name.empty()) {
            b.fail("name", "is required");
        }
        if (j.model.empty()) {
            b.fail("model", "is required (a pinned model version string)");
        }
        if (k_providers.count(j.provider) == 0) {
            b.fail("provider", "must be openai or anthropic, got '" + j.provider + "'");
        }
        ASSAY_RETURN_IF_ERROR(b.finish());
        for (const auto& other : out) {
            if (other.name == j.name) {
                return Status::invalid_argument(b.where() + ": key 'name': '" + j.name +
                                                "' is used twice");
            }
        }
        j.config_json = yaml_to_json(node[i]).dump();
        // Ranges and shapes, as the judge stage will read them.
        if (auto runtime = judge_runtime_from_json(j.config_json); !runtime.ok()) {
            return Status::invalid_argument(b.where() + ": " + runtime.status().message());
        }
        out.push_back(std::move(j));
    }
    return {};
}

// The `subject:` block (gate generate mode; judge/subject_options.h).
Status parse_subject(const YAML::Node& node, std::optional<JudgeSpec>& out) {
    if (!node || node.IsNull()) {
        return {};
    }
    if (!node.IsMap()) {
        return Status::invalid_argument("key 'subject': expected a mapping (provider, model, ...)");
    }
    if (node["api_key_env"] && node["api_key_env"].IsScalar() &&
        node["api_key_env"].Scalar().rfind("sk-", 0) == 0) {
        return Status::invalid_argument(
            "subject: key 'api_key_env': names an environment variable; never put the key itself "
            "in config");
    }
    JudgeSpec j;
    j.config_json = yaml_to_json(node).dump();
    auto rt = subject_runtime_from_json(j.config_json);
    if (!rt.ok()) {
        return rt.status();
    }
    j.name = rt->rt.transport.name;
    j.provider = to_string(rt->rt.transport.provider);
    j.model = rt->rt.transport.model;
    out = std::move(j);
    return {};
}

}  // namespace

Status parse_config_blocks(ConfigBlock& top, const std::string& base_dir, Config& cfg) {
    if (auto store = top.get_node("store")) {
        ConfigBlock b(*store, "store", base_dir);
        auto sqlite = b.get_path("sqlite");
        if (sqlite) {
            cfg.store.sqlite_path = *sqlite;
        }
        // store.postgres: a libpq URI (README, PostgreSQL); the password
        // never goes in it (PGPASSWORD or ~/.pgpass) and is never echoed.
        if (auto uri = b.get_string("postgres")) {
            const std::string shown = mask_store_location(*uri);
            if (sqlite) {
                b.fail("postgres", "set store.sqlite or store.postgres, not both");
            } else if (!is_postgres_uri(*uri)) {
                b.fail("postgres", "expected a postgresql:// URI, got '" + shown + "'");
            } else if (shown != *uri) {
                b.fail("postgres", "the URI '" + shown +
                                       "' carries a password; set PGPASSWORD or use ~/.pgpass");
            } else {
                cfg.store.sqlite_path = *uri;
            }
        }
        if (auto t = b.get_int("busy_timeout_ms")) {
            cfg.store.busy_timeout_ms = static_cast<int>(*t);
        }
        if (auto t = b.get_int("judge_lease_ms")) {
            if (*t < 1 || *t > 86400000) {
                b.fail("judge_lease_ms", "must be between 1 and 86400000");
            } else {
                cfg.store.judge_lease_ms = *t;
            }
        }
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    if (auto sampler = top.get_node("sampler")) {
        ConfigBlock b(*sampler, "sampler", base_dir);
        cfg.salt = b.get_string("salt").value_or("");
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    if (auto ingest = top.get_node("ingest")) {
        ConfigBlock b(*ingest, "ingest", base_dir);
        if (auto v = b.get_int("max_trace_bytes")) {
            if (*v < 1024) {
                b.fail("max_trace_bytes", "must be at least 1024");
            }
            cfg.ingest.max_trace_bytes = static_cast<size_t>(*v);
        }
        if (auto v = b.get_int("max_depth")) {
            if (*v < 4 || *v > 10000) {
                b.fail("max_depth", "must be between 4 and 10000");
            }
            cfg.ingest.max_depth = static_cast<size_t>(*v);
        }
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    if (auto pipeline = top.get_node("pipeline")) {
        ConfigBlock b(*pipeline, "pipeline", base_dir);
        if (auto v = b.get_int("batch_size")) {
            if (*v < 1 || *v > 100000) {
                b.fail("batch_size", "must be between 1 and 100000");
            }
            cfg.pipeline.batch_size = static_cast<int>(*v);
        }
        if (auto v = b.get_int("threads")) {
            if (*v < 0 || *v > 256) {
                b.fail("threads", "must be between 0 and 256");
            }
            cfg.pipeline.threads = static_cast<int>(*v);
        }
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    if (auto worker = top.get_node("worker")) {
        ConfigBlock b(*worker, "worker", base_dir);
        cfg.worker.zmq_pull = b.get_string("zmq_pull").value_or("");
        cfg.worker.zmq_router = b.get_string("zmq_router").value_or("");
        cfg.worker.http_listen = b.get_string("http_listen").value_or("");
        if (auto v = b.get_int("shutdown_deadline_ms")) {
            if (*v < 100 || *v > 3600000) {
                b.fail("shutdown_deadline_ms", "must be between 100 and 3600000");
            }
            cfg.worker.shutdown_deadline_ms = static_cast<int>(*v);
        }
        if (auto v = b.get_int("flush_ms")) {
            if (*v < 1 || *v > 60000) {
                b.fail("flush_ms", "must be between 1 and 60000");
            }
            cfg.worker.flush_ms = static_cast<int>(*v);
        }
        if (auto v = b.get_int("zmq_rcvhwm")) {
            if (*v < 1 || *v > 10000000) {
                b.fail("zmq_rcvhwm", "must be between 1 and 10000000");
            }
            cfg.worker.zmq_rcvhwm = static_cast<int>(*v);
        }
        cfg.worker.otlp_listen = b.get_string("otlp_listen").value_or("");
        cfg.worker.otlp_grpc_listen = b.get_string("otlp_grpc_listen").value_or("");
        if (auto v = b.get_int("otlp_idle_ms")) {
            if (*v < 1 || *v > 3600000) {
                b.fail("otlp_idle_ms", "must be between 1 and 3600000");
            }
            cfg.worker.otlp_idle_ms = *v;
        }
        if (auto v = b.get_int("otlp_max_wait_ms")) {
            if (*v < 1 || *v > 86400000) {
                b.fail("otlp_max_wait_ms", "must be between 1 and 86400000");
            }
            cfg.worker.otlp_max_wait_ms = *v;
        }
        if (auto v = b.get_int("otlp_claim_lease_ms")) {
            if (*v < 1000 || *v > 86400000) {
                b.fail("otlp_claim_lease_ms", "must be between 1000 and 86400000");
            }
            cfg.worker.otlp_claim_lease_ms = *v;
        }
        if (auto v = b.get_int("otlp_max_body_bytes")) {
            if (*v < 1024) {
                b.fail("otlp_max_body_bytes", "must be at least 1024");
            }
            cfg.worker.otlp_max_body_bytes = *v;
        }
        if (auto v = b.get_int("otlp_max_pending_bytes")) {
            if (*v < 1 << 20) {
                b.fail("otlp_max_pending_bytes", "must be at least 1048576");
            }
            cfg.worker.otlp_max_pending_bytes = *v;
        }
        parse_http_limits(b, cfg.worker.http);
        if (auto v = b.get_int("zmq_max_message_bytes")) {
            if (*v < 1024) {
                b.fail("zmq_max_message_bytes", "must be at least 1024");
            }
            cfg.worker.zmq_max_message_bytes = *v;
        }
        if (auto v = b.get_int("zmq_max_traces_per_message")) {
            if (*v < 1 || *v > 16777215) {
                b.fail("zmq_max_traces_per_message",
                       "must be 1-16777215, got " + std::to_string(*v));
            }
            cfg.worker.zmq_max_traces_per_message = *v;
        }
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    if (auto log = top.get_node("log")) {
        ConfigBlock b(*log, "log", base_dir);
        cfg.log.level = b.get_string("level").value_or(cfg.log.level);
        cfg.log.format = b.get_string("format").value_or(cfg.log.format);
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    if (auto judges = top.get_node("judges")) {
        ASSAY_RETURN_IF_ERROR(parse_judges(*judges, base_dir, cfg.judges));
    }
    if (auto subject = top.get_node("subject")) {
        ASSAY_RETURN_IF_ERROR(parse_subject(*subject, cfg.subject));
    }
    if (auto gate = top.get_node("gate")) {
        cfg.gate = *gate;  // validated by `assay gate` (gate/gate_rules.h)
    }
    return {};
}

Result<JudgeSpec> load_judge_file(const std::string& path) {
    YAML::Node node;
    try {
        node = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        return Status::io_error("judge file '" + path + "': cannot be read");
    } catch (const YAML::Exception& e) {
        return Status::invalid_argument("judge file '" + path + "': " + e.what());
    }
    if (Status dup = reject_duplicate_keys(node); !dup.ok()) {
        return Status::invalid_argument("judge file '" + path + "': " + dup.message());
    }
    if (!node.IsMap()) {
        return Status::invalid_argument("judge file '" + path +
                                        "': expected a mapping with the keys of a judges: entry "
                                        "(name, provider, model, ...)");
    }
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(node);
    std::vector<JudgeSpec> out;
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    if (Status st = parse_judges(list, dir, out); !st.ok()) {
        return Status::invalid_argument("judge file '" + path + "': " + st.message());
    }
    return out.front();
}

}  // namespace assay
