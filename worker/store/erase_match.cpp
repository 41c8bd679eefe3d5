#include "store/erase_match.h"

#include <nlohmann/json.hpp>

namespace assay {

Status check_erase_request(const std::string& field, const std::string& id) {
    if (id.empty()) {
        return Status::invalid_argument("erase: the id is empty");
    }
    if (field != "user" && field != "tenant") {
        return Status::invalid_argument("erase: field must be user or tenant");
    }
    return {};
}

std::string json_quoted(const std::string& id) {
    return nlohmann::json(id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool dead_letter_matches(const std::string& raw, const std::string& field, const std::string& id) {
    auto j = nlohmann::json::parse(raw, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("metadata") && j["metadata"].is_object()) {
        const auto& m = j["metadata"];
        const char* key = field == "user" ? "user_id" : "tenant";
        if (!m.contains(key)) {
            return false;
        }
        const auto& v = m[key];
        return v.is_string() ? v.get<std::string>() == id : v.dump() == id;
    }
    return raw.find(json_quoted(id)) != std::string::npos;
}

}  // namespace assay
