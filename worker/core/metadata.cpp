#include "core/trace.h"

namespace assay {

const std::string* Metadata::known(std::string_view key) const {
    struct Field {
        std::string_view key;
        std::string Metadata::*member;
    };
    static const Field k_fields[] = {
        {"feature", &Metadata::feature},
        {"tenant", &Metadata::tenant},
        {"user_id", &Metadata::user_id},
        {"session_id", &Metadata::session_id},
        {"prompt_name", &Metadata::prompt_name},
        {"prompt_version", &Metadata::prompt_version},
        {"model", &Metadata::model},
        {"environment", &Metadata::environment},
        {"expected_format", &Metadata::expected_format},
    };
    for (const auto& f : k_fields) {
        if (f.key == key) {
            return &(this->*f.member);
        }
    }
    return nullptr;
}

std::optional<std::string> Metadata::get(std::string_view key) const {
    if (const std::string* k = known(key)) {
        return k->empty() ? std::nullopt : std::optional<std::string>(*k);
    }
    auto it = extra.find(key);
    if (it == extra.end() || it->is_null() || it->is_object() || it->is_array()) {
        return std::nullopt;
    }
    if (it->is_string()) {
        return it->get<std::string>();
    }
    return it->dump();
}

bool Metadata::has_tag(std::string_view tag) const {
    for (const auto& t : tags) {
        if (t == tag) {
            return true;
        }
    }
    return false;
}

}  // namespace assay
