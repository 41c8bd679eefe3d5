#include "core/config_block.h"

#include <cmath>
#include <filesystem>

#include "core/sha256.h"

namespace assay {

namespace {

std::string type_name(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Null:
            return "null";
        case YAML::NodeType::Scalar:
            return "scalar";
        case YAML::NodeType::Sequence:
            return "list";
        case YAML::NodeType::Map:
            return "mapping";
        default:
            return "undefined";
    }
}

}  // namespace

ConfigBlock::ConfigBlock(YAML::Node node, std::string where, std::string base_dir)
    : m_node(std::move(node)), m_where(std::move(where)), m_base_dir(std::move(base_dir)) {
    if (m_node && !m_node.IsNull() && !m_node.IsMap()) {
        m_first_error = m_where + ": expected a mapping, got a " + type_name(m_node);
    }
}

bool ConfigBlock::has(const std::string& key) const {
    return m_node && m_node.IsMap() && m_node[key] && !m_node[key].IsNull();
}

std::optional<YAML::Node> ConfigBlock::lookup(const std::string& key) {
    m_used.insert(key);
    if (!has(key)) {
        return std::nullopt;
    }
    return m_node[key];
}

void ConfigBlock::mark_used(const std::string& key) { m_used.insert(key); }

void ConfigBlock::fail(const std::string& key, const std::string& problem) {
    if (m_first_error.empty()) {
        m_first_error = m_where + ": key '" + key + "': " + problem;
    }
}

std::optional<std::string> ConfigBlock::get_string(const std::string& key) {
    auto n = lookup(key);
    if (!n) {
        return std::nullopt;
    }
    if (!n->IsScalar()) {
        fail(key, "expected a string, got a " + type_name(*n));
        return std::nullopt;
    }
    return n->Scalar();
}

std::optional<double> ConfigBlock::get_double(const std::string& key) {
    auto n = lookup(key);
    if (!n) {
        return std::nullopt;
    }
    double v = 0;
    if (!n->IsScalar() || !YAML::convert<double>::decode(*n, v) || !std::isfinite(v)) {
        fail(key, "expected a number, got '" + (n->IsScalar() ? n->Scalar() : type_name(*n)) + "'");
        return std::nullopt;
    }
    return v;
}

std::optional<int64_t> ConfigBlock::get_int(const std::string& key) {
    auto n = lookup(key);
    if (!n) {
        return std::nullopt;
    }
    int64_t v = 0;
    if (!n->IsScalar() || !YAML::convert<int64_t>::decode(*n, v)) {
        fail(key,
             "expected an integer, got '" + (n->IsScalar() ? n->Scalar() : type_name(*n)) + "'");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> ConfigBlock::get_bool(const std::string& key) {
    auto n = lookup(key);
    if (!n) {
        return std::nullopt;
    }
    bool v = false;
    if (!n->IsScalar() || !YAML::convert<bool>::decode(*n, v)) {
        fail(key,
             "expected true or false, got '" + (n->IsScalar() ? n->Scalar() : type_name(*n)) + "'");
        return std::nullopt;
    }
    return v;
}

std::optional<std::vector<std::string>> ConfigBlock::get_string_list(const std::string& key) {
    auto n = lookup(key);
    if (!n) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    if (n->IsScalar()) {
        out.push_back(n->Scalar());
        return out;
    }
    if (!n->IsSequence()) {
        fail(key, "expected a list of strings, got a " + type_name(*n));
        return std::nullopt;
    }
    for (const auto& item : *n) {
        if (!item.IsScalar()) {
            fail(key, "expected a list of strings, found a " + type_name(item) + " item");
            return std::nullopt;
        }
        out.push_back(item.Scalar());
    }
    return out;
}

std::optional<YAML::Node> ConfigBlock::get_node(const std::string& key) { return lookup(key); }

std::optional<std::string> ConfigBlock::get_path(const std::string& key) {
    auto s = get_string(key);
    if (!s) {
        return std::nullopt;
    }
    std::filesystem::path p(*s);
    if (p.is_relative()) {
        p = std::filesystem::path(m_base_dir) / p;
    }
    std::string path = p.lexically_normal().string();
    m_file_keys[key] = path;
    return path;
}

Status ConfigBlock::finish() const {
    if (!m_first_error.empty()) {
        return Status::invalid_argument(m_first_error);
    }
    if (m_node && m_node.IsMap()) {
        for (const auto& kv : m_node) {
            const std::string key = kv.first.as<std::string>();
            if (m_used.count(key) == 0) {
                return Status::invalid_argument(m_where + ": unknown key '" + key + "'");
            }
        }
    }
    return Status::ok_status();
}

void ConfigBlock::add_version_material(const std::string& bytes) {
    m_extra_material += sha256_hex(bytes);
}

void ConfigBlock::add_file_version(const std::string& key, const std::string& content_sha256) {
    m_file_hashes[key] = content_sha256;
}

std::string ConfigBlock::version_fingerprint(const std::set<std::string>& exclude) const {
    nlohmann::json j = nlohmann::json::object();
    if (m_node && m_node.IsMap()) {
        for (const auto& kv : m_node) {
            const std::string key = kv.first.as<std::string>();
            if (exclude.count(key) != 0) {
                continue;
            }
            auto file = m_file_keys.find(key);
            if (file == m_file_keys.end()) {
                j[key] = yaml_to_json(kv.second);
                continue;
            }
            auto hash = m_file_hashes.find(key);
            if (hash != m_file_hashes.end()) {
                j[key] = {{"file_sha256", hash->second}};
            } else {
                std::error_code ec;
                auto abs = std::filesystem::absolute(file->second, ec);
                j[key] = {
                    {"file",
                     (ec ? std::filesystem::path(file->second) : abs).lexically_normal().string()}};
            }
        }
    }
    return sha256_hex(j.dump() + "\n" + m_extra_material).substr(0, 8);
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            nlohmann::json j = nlohmann::json::object();
            for (const auto& kv : node) {
                j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
            }
            return j;
        }
        case YAML::NodeType::Sequence: {
            nlohmann::json j = nlohmann::json::array();
            for (const auto& item : node) {
                j.push_back(yaml_to_json(item));
            }
            return j;
        }
        case YAML::NodeType::Scalar: {
            const std::string& s = node.Scalar();
            if (node.Tag() == "!") {  // quoted: always a string
                return s;
            }
            int64_t i = 0;
            double d = 0;
            if (s == "true" || s == "false") {
                return s == "true";
            }
            if (YAML::convert<int64_t>::decode(node, i) &&
                s.find_first_of(".eE") == std::string::npos) {
                return i;
            }
            if (YAML::convert<double>::decode(node, d) && std::isfinite(d) &&
                s.find_first_of("0123456789") != std::string::npos) {
                return d;
            }
            if (s == "null" || s == "~") {
                return nullptr;
            }
            return s;
        }
        default:
            return nullptr;
    }
}

}  // namespace assay
