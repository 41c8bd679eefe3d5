#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config_block.h"
#include "judge/judge_options.h"
#include "judge/subject_options.h"

extern char** environ;

namespace assay {

namespace {

const std::set<std::string> k_providers = {"openai", "anthropic"};

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
        b.get_double("temperature");
        b.get_int("max_tokens");
        b.get_int("max_concurrency");
        b.get_double("requests_per_minute");
        b.get_double("tokens_per_minute");
        b.get_int("timeout_ms");
        b.get_int("connect_timeout_ms");
        b.get_int("max_retries");
        b.get_int("max_retry_after_ms");
        b.get_bool("json_response_format");
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

// Reads an integer override from the environment; errors name the variable.
Status env_int(const std::map<std::string, std::string>& env, const char* name, int64_t lo,
               int64_t& target) {
    auto it = env.find(name);
    if (it == env.end()) {
        return {};
    }
    try {
        size_t used = 0;
        long long v = std::stoll(it->second, &used);
        if (used != it->second.size() || v < lo) {
            throw std::invalid_argument("range");
        }
        target = v;
    } catch (const std::exception&) {
        return Status::invalid_argument(std::string("environment variable ") + name +
                                        ": expected an integer >= " + std::to_string(lo) +
                                        ", got '" + it->second + "'");
    }
    return {};
}

std::vector<std::string> scorer_names(const std::vector<ConfiguredScorer>& scorers) {
    std::vector<std::string> names;
    for (const auto& s : scorers) {
        names.push_back(s.name);
    }
    return names;
}

std::vector<std::string> judge_names(const std::vector<JudgeSpec>& judges) {
    std::vector<std::string> names;
    for (const auto& j : judges) {
        names.push_back(j.name);
    }
    return names;
}

}  // namespace

const char* default_config_yaml() {
    return R"yaml(
store: {sqlite: assay.db}
sampler: {salt: ""}
scorers:
  - {name: json, type: format, json: true, when: {expected_format: json}}
  - {name: refusal, type: refusal}
  - {name: length, type: length, max_words: 400}
  - {name: pii, type: pii_leak}
  - {name: truncation, type: truncation}
)yaml";
}

std::map<std::string, std::string> environ_map() {
    std::map<std::string, std::string> out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string kv(*e);
        if (kv.rfind("ASSAY_", 0) != 0) {
            continue;
        }
        auto eq = kv.find('=');
        if (eq != std::string::npos) {
            out[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    return out;
}

Result<Config> load_config_text(const std::string& yaml, const std::string& source,
                                const std::string& base_dir, const ConfigOverrides& flags,
                                const std::map<std::string, std::string>& env) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        return Status::invalid_argument(source + ": YAML error at line " +
                                        std::to_string(e.mark.line + 1) + ", column " +
                                        std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (root.IsNull()) {
        root = YAML::Node(YAML::NodeType::Map);
    }
    Config cfg;
    cfg.source = source;
    auto wrap = [&](Status s) {
        return s.ok() ? s : Status(s.code(), source + ": " + s.message());
    };
    ConfigBlock top(root, "config", base_dir);
    if (!root.IsMap()) {
        return wrap(top.finish());
    }
    if (auto store = top.get_node("store")) {
        ConfigBlock b(*store, "store", base_dir);
        if (auto p = b.get_path("sqlite")) {
            cfg.store.sqlite_path = *p;
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
        ASSAY_RETURN_IF_ERROR(wrap(b.finish()));
    }
    if (auto sampler = top.get_node("sampler")) {
        ConfigBlock b(*sampler, "sampler", base_dir);
        cfg.salt = b.get_string("salt").value_or("");
        ASSAY_RETURN_IF_ERROR(wrap(b.finish()));
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
        ASSAY_RETURN_IF_ERROR(wrap(b.finish()));
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
        ASSAY_RETURN_IF_ERROR(wrap(b.finish()));
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
        if (auto v = b.get_int("otlp_max_body_bytes")) {
            if (*v < 1024) {
                b.fail("otlp_max_body_bytes", "must be at least 1024");
            }
            cfg.worker.otlp_max_body_bytes = *v;
        }
        if (auto v = b.get_int("zmq_max_message_bytes")) {
            if (*v < 1024) {
                b.fail("zmq_max_message_bytes", "must be at least 1024");
            }
            cfg.worker.zmq_max_message_bytes = *v;
        }
        ASSAY_RETURN_IF_ERROR(wrap(b.finish()));
    }
    if (auto log = top.get_node("log")) {
        ConfigBlock b(*log, "log", base_dir);
        cfg.log.level = b.get_string("level").value_or(cfg.log.level);
        cfg.log.format = b.get_string("format").value_or(cfg.log.format);
        ASSAY_RETURN_IF_ERROR(wrap(b.finish()));
    }
    if (auto judges = top.get_node("judges")) {
        ASSAY_RETURN_IF_ERROR(wrap(parse_judges(*judges, base_dir, cfg.judges)));
    }
    if (auto subject = top.get_node("subject")) {
        ASSAY_RETURN_IF_ERROR(wrap(parse_subject(*subject, cfg.subject)));
    }
    if (auto gate = top.get_node("gate")) {
        cfg.gate = *gate;  // validated by `assay gate` (gate/gate_rules.h)
    }
    ASSAY_RETURN_IF_ERROR(wrap(parse_monitoring_config(top, base_dir, cfg.monitoring)));

    // Environment, then flags, override the file.
    auto envs = [&](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    if (auto v = envs("ASSAY_DB")) {
        cfg.store.sqlite_path = *v;
    }
    if (auto v = envs("ASSAY_SAMPLER_SALT")) {
        cfg.salt = *v;
    }
    if (auto v = envs("ASSAY_LOG_LEVEL")) {
        cfg.log.level = *v;
    }
    if (auto v = envs("ASSAY_LOG_FORMAT")) {
        cfg.log.format = *v;
    }
    int64_t n = static_cast<int64_t>(cfg.ingest.max_trace_bytes);
    ASSAY_RETURN_IF_ERROR(env_int(env, "ASSAY_MAX_TRACE_BYTES", 1024, n));
    cfg.ingest.max_trace_bytes = static_cast<size_t>(n);
    n = static_cast<int64_t>(cfg.ingest.max_depth);
    ASSAY_RETURN_IF_ERROR(env_int(env, "ASSAY_MAX_DEPTH", 4, n));
    cfg.ingest.max_depth = static_cast<size_t>(n);
    n = cfg.pipeline.batch_size;
    ASSAY_RETURN_IF_ERROR(env_int(env, "ASSAY_BATCH_SIZE", 1, n));
    cfg.pipeline.batch_size = static_cast<int>(n);
    n = cfg.pipeline.threads;
    ASSAY_RETURN_IF_ERROR(env_int(env, "ASSAY_THREADS", 0, n));
    cfg.pipeline.threads = static_cast<int>(n);

    if (flags.db) {
        cfg.store.sqlite_path = *flags.db;
    }
    if (flags.salt) {
        cfg.salt = *flags.salt;
    }
    if (flags.log_level) {
        cfg.log.level = *flags.log_level;
    }
    if (flags.threads) {
        cfg.pipeline.threads = *flags.threads;
    }
    if (flags.batch_size) {
        cfg.pipeline.batch_size = *flags.batch_size;
    }
    for (auto [flag, field] : {std::pair{&flags.zmq_pull, &cfg.worker.zmq_pull},
                               std::pair{&flags.zmq_router, &cfg.worker.zmq_router},
                               std::pair{&flags.http_listen, &cfg.worker.http_listen},
                               std::pair{&flags.otlp_listen, &cfg.worker.otlp_listen},
                               std::pair{&flags.otlp_grpc_listen, &cfg.worker.otlp_grpc_listen}}) {
        if (*flag && !(*flag)->empty()) {
            *field = **flag;
        }
    }
    static const std::set<std::string> k_levels = {"trace", "debug", "info",
                                                   "warn",  "error", "off"};
    if (k_levels.count(cfg.log.level) == 0) {
        return Status::invalid_argument(
            source + ": log.level must be one of trace, debug, info, warn, error, off; got '" +
            cfg.log.level + "'");
    }
    if (cfg.log.format != "text" && cfg.log.format != "json") {
        return Status::invalid_argument(source + ": log.format must be text or json; got '" +
                                        cfg.log.format + "'");
    }

    // Scorers last: they use the salt.
    auto scorers = top.get_node("scorers");
    ASSAY_RETURN_IF_ERROR(wrap(top.finish()));
    auto built = build_scorers(scorers ? *scorers : YAML::Node(), cfg.salt, base_dir);
    if (!built.ok()) {
        return wrap(built.status());
    }
    cfg.scorers = std::move(built.value());
    if (cfg.scorers.empty()) {
        return Status::invalid_argument(source + ": key 'scorers': no scorers are configured");
    }
    // Judge scorers name judges defined above.
    for (size_t i = 0; i < cfg.scorers.size(); ++i) {
        const auto& cs = cfg.scorers[i];
        if (!cs.is_judge()) {
            continue;
        }
        const YAML::Node names = (*scorers)[i]["judges"];
        for (const auto& judge_name : names) {
            bool found = false;
            for (const auto& j : cfg.judges) {
                found = found || j.name == judge_name.Scalar();
            }
            if (!found) {
                return Status::invalid_argument(source + ": scorers[" + std::to_string(i) + "] (" +
                                                cs.name + "): key 'judges': no judge named '" +
                                                judge_name.Scalar() +
                                                "' under the top-level 'judges' key");
            }
        }
    }
    ASSAY_RETURN_IF_ERROR(wrap(validate_monitoring_config(cfg.monitoring, scorer_names(cfg.scorers),
                                                          judge_names(cfg.judges))));
    return cfg;
}

Result<Config> load_config(const std::string& path_in, const ConfigOverrides& flags,
                           const std::map<std::string, std::string>& env) {
    std::string path = path_in;
    if (path.empty()) {
        auto it = env.find("ASSAY_CONFIG");
        if (it != env.end()) {
            path = it->second;
        } else if (std::filesystem::exists("assay.yaml")) {
            path = "assay.yaml";
        } else {
            return load_config_text(default_config_yaml(), "(built-in defaults)", ".", flags, env);
        }
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::io_error("cannot read config '" + path + "': " + std::strerror(errno));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string base = std::filesystem::path(path).parent_path().string();
    if (base.empty()) {
        base = ".";
    }
    return load_config_text(ss.str(), path, base, flags, env);
}

}  // namespace assay
