#include "core/yaml_keys.h"

#include <string>
#include <unordered_map>

namespace assay {

namespace {

// Depth-first, so the message names the first repeat in the file's order
// within each mapping; nesting is bounded by yaml-cpp's own parser.
Status check(const YAML::Node& node) {
    if (node.IsMap()) {
        std::unordered_map<std::string, int> first_line;
        for (const auto& pair : node) {
            const YAML::Node key = pair.first;
            if (key.IsScalar()) {
                const int line = key.Mark().line + 1;
                auto [seen, inserted] = first_line.emplace(key.Scalar(), line);
                if (!inserted) {
                    return Status::invalid_argument(
                        "line " + std::to_string(line) + ": key '" + key.Scalar() +
                        "' appears twice in the same mapping (first at line " +
                        std::to_string(seen->second) + "); write it once");
                }
            }
            ASSAY_RETURN_IF_ERROR(check(pair.second));
        }
    } else if (node.IsSequence()) {
        for (const YAML::Node& item : node) {
            ASSAY_RETURN_IF_ERROR(check(item));
        }
    }
    return {};
}

}  // namespace

Status reject_duplicate_keys(const YAML::Node& root) { return check(root); }

}  // namespace assay
