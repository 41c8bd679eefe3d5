#pragma once
// ConfigBlock: typed, validated access to one YAML mapping (a scorer's entry,
// the `store` block, ...). Every getter marks its key as used; a wrong type is
// recorded as an error that names the key and its location. After a
// component's factory has read what it needs, finish() reports the first
// error, or the first key nobody read ("unknown key"). Not thread-safe; used
// once at startup.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

class ConfigBlock {
public:
    // `where` names the block in messages, e.g. "scorers[2] (json)".
    // `base_dir` resolves relative file paths (the config file's folder).
    ConfigBlock(YAML::Node node, std::string where, std::string base_dir = ".");

    const std::string& where() const { return m_where; }
    bool has(const std::string& key) const;

    std::optional<std::string> get_string(const std::string& key);
    std::optional<double> get_double(const std::string& key);
    std::optional<int64_t> get_int(const std::string& key);
    std::optional<bool> get_bool(const std::string& key);
    // A scalar is accepted as a one-element list.
    std::optional<std::vector<std::string>> get_string_list(const std::string& key);
    // The raw node (any shape); the caller validates it.
    std::optional<YAML::Node> get_node(const std::string& key);
    // A path relative to the config file's folder, made absolute-ish. The
    // key is a file key: version_fingerprint() folds what the file says
    // (add_file_version), never how its path is spelled.
    std::optional<std::string> get_path(const std::string& key);

    // Marks a key as read without reading it (for keys handled elsewhere).
    void mark_used(const std::string& key);
    // Records a semantic error, e.g. "min_words must be <= max_words".
    void fail(const std::string& key, const std::string& problem);

    // First recorded error, else the first unknown key, else OK.
    Status finish() const;

    // Material that gives scores their meaning: every key of the block
    // except those in `exclude`, plus anything added with
    // add_version_material() (e.g. embedded pattern files). A file key
    // (get_path) contributes the SHA-256 (hex) of the file's content given
    // to add_file_version(key, ...), so `x.json`, `./x.json` and its
    // absolute path give one version, and an edit of the file a new one;
    // without it, the key's absolute normalised path. Used to derive scorer
    // versions, so a config change is a new version.
    void add_version_material(const std::string& bytes);
    void add_file_version(const std::string& key, const std::string& content_sha256);
    std::string version_fingerprint(const std::set<std::string>& exclude) const;

    const std::string& base_dir() const { return m_base_dir; }

private:
    std::optional<YAML::Node> lookup(const std::string& key);

    YAML::Node m_node;
    std::string m_where;
    std::string m_base_dir;
    std::set<std::string> m_used;
    std::string m_first_error;
    std::string m_extra_material;
    std::map<std::string, std::string> m_file_keys;    // file key -> resolved path
    std::map<std::string, std::string> m_file_hashes;  // file key -> content SHA-256
};

// YAML -> JSON, with scalars typed as YAML 1.2 core schema would type them
// (true/false, integers, floats, null, else string).
nlohmann::json yaml_to_json(const YAML::Node& node);

}  // namespace assay
