#include "core/input_gist.h"

namespace assay {

std::string input_gist(const Trace& t) {
    const Message* last_other = nullptr;
    for (auto it = t.input_messages.rbegin(); it != t.input_messages.rend(); ++it) {
        if (it->content.empty()) {
            continue;
        }
        if (it->role == "user") {
            return it->content;
        }
        if (last_other == nullptr && it->role != "system") {
            last_other = &*it;
        }
    }
    return last_other != nullptr ? last_other->content : t.input;
}

}  // namespace assay
