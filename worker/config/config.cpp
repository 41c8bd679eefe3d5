#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config_blocks.h"
#include "config/config_overrides.h"
#include "core/config_block.h"
#include "core/sha256.h"
#include "core/yaml_keys.h"

namespace assay {

namespace {

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
    if (Status dup = reject_duplicate_keys(root); !dup.ok()) {
        return Status::invalid_argument(source + ": " + dup.message());
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
    ASSAY_RETURN_IF_ERROR(wrap(parse_config_blocks(top, base_dir, cfg)));
    ASSAY_RETURN_IF_ERROR(wrap(parse_monitoring_config(top, base_dir, cfg.monitoring)));

    // Environment, then flags, override the file.
    ASSAY_RETURN_IF_ERROR(apply_environment(env, cfg));
    apply_flags(flags, cfg);
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
    // Judge scorers name judges defined above. Each judge's provider and
    // model are part of the scorer's version: a judge given another model
    // scores under a new version, so the two models' scores never mix.
    for (size_t i = 0; i < cfg.scorers.size(); ++i) {
        auto& cs = cfg.scorers[i];
        if (!cs.is_judge()) {
            continue;
        }
        const YAML::Node names = (*scorers)[i]["judges"];
        std::string models;
        for (const auto& judge_name : names) {
            bool found = false;
            for (const auto& j : cfg.judges) {
                if (j.name == judge_name.Scalar()) {
                    found = true;
                    models += j.name + "=" + j.provider + "/" + j.model + "\n";
                }
            }
            if (!found) {
                return Status::invalid_argument(source + ": scorers[" + std::to_string(i) + "] (" +
                                                cs.name + "): key 'judges': no judge named '" +
                                                judge_name.Scalar() +
                                                "' under the top-level 'judges' key");
            }
        }
        const auto dot = cs.version.find('.');
        cs.version =
            cs.version.substr(0, dot + 1) + sha256_hex(cs.version + "\n" + models).substr(0, 8);
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
