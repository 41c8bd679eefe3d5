#include "core/embedded_files.h"

#include <algorithm>
#include <map>

namespace assay {

namespace {
std::map<std::string, std::string_view, std::less<>>& table() {
    static std::map<std::string, std::string_view, std::less<>> t;
    return t;
}
}  // namespace

bool register_embedded_file(std::string_view key, std::string_view bytes) {
    table()[std::string(key)] = bytes;
    return true;
}

std::optional<std::string_view> embedded_file(std::string_view key) {
    auto it = table().find(key);
    if (it == table().end()) {
        return std::nullopt;
    }
    return it->second;
}

std::vector<std::string> embedded_files_under(std::string_view prefix) {
    std::vector<std::string> out;
    for (const auto& [k, v] : table()) {
        if (k.compare(0, prefix.size(), prefix) == 0) {
            out.push_back(k);
        }
    }
    return out;
}

}  // namespace assay
