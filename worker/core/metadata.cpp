#include "core/trace.h"

namespace assay {

std::optional<std::string> Metadata::get(std::string_view key) const {
    auto it = all.find(key);
    if (it == all.end() || it->is_null() || it->is_object() || it->is_array()) {
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
