#include "config/config_overrides.h"

#include <optional>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace assay {

namespace {

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

// `flag` when set, else the environment variable `var`, else "".
std::string flag_or_env(const std::string& flag, const std::map<std::string, std::string>& env,
                        const char* var) {
    if (!flag.empty()) {
        return flag;
    }
    auto it = env.find(var);
    return it != env.end() ? it->second : "";
}

}  // namespace

std::string store_path_setting(const std::string& flag,
                               const std::map<std::string, std::string>& env) {
    if (!flag.empty()) {
        return flag;
    }
    auto it = env.find("ASSAY_DB");
    return it != env.end() && !it->second.empty() ? it->second : "assay.db";
}

std::string review_token_setting(const std::string& flag,
                                 const std::map<std::string, std::string>& env) {
    return flag_or_env(flag, env, "ASSAY_REVIEW_TOKEN");
}

Result<int64_t> review_session_ttl_setting(const std::string& flag,
                                           const std::map<std::string, std::string>& env) {
    const std::string value = flag_or_env(flag, env, "ASSAY_REVIEW_SESSION_TTL");
    const std::string source = flag.empty() ? "ASSAY_REVIEW_SESSION_TTL" : "--session-ttl";
    if (value.empty()) {
        return int64_t{43200};
    }
    std::string digits = value;
    int64_t unit = 1;
    if (!digits.empty() && std::string("smhd").find(digits.back()) != std::string::npos) {
        const char u = digits.back();
        unit = u == 's' ? 1 : u == 'm' ? 60 : u == 'h' ? 3600 : 86400;
        digits.pop_back();
    }
    const int64_t k_max_s = 30 * 86400;
    auto bad = Status::invalid_argument(
        source + " '" + value +
        "': expected a duration from 1s to 30d, as seconds or with a unit (90s, 30m, 12h, 7d)");
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
        return bad;
    }
    const int64_t seconds = std::stoll(digits) * unit;
    if (seconds < 1 || seconds > k_max_s) {
        return bad;
    }
    return seconds;
}

std::string review_public_url_setting(const std::string& flag,
                                      const std::map<std::string, std::string>& env) {
    return flag_or_env(flag, env, "ASSAY_REVIEW_PUBLIC_URL");
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

Status apply_environment(const std::map<std::string, std::string>& env, Config& cfg) {
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
    return {};
}

void apply_flags(const ConfigOverrides& flags, Config& cfg) {
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
}

}  // namespace assay
