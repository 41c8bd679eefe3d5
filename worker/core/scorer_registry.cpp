#include "core/scorer_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace assay {

ScorerRegistry& ScorerRegistry::instance() {
    static ScorerRegistry registry;
    return registry;
}

bool ScorerRegistry::add(ScorerType type) {
    if (find(type.type) != nullptr) {
        std::fprintf(stderr, "assay: scorer type '%s' registered twice\n", type.type.c_str());
        std::abort();
    }
    if ((type.make == nullptr) == (type.make_deferred == nullptr)) {
        std::fprintf(stderr,
                     "assay: scorer type '%s' must set exactly one of make and make_deferred\n",
                     type.type.c_str());
        std::abort();
    }
    m_types.push_back(std::move(type));
    return true;
}

const ScorerType* ScorerRegistry::find(const std::string& type) const {
    for (const auto& t : m_types) {
        if (t.type == type) {
            return &t;
        }
    }
    return nullptr;
}

std::vector<const ScorerType*> ScorerRegistry::all() const {
    std::vector<const ScorerType*> out;
    for (const auto& t : m_types) {
        out.push_back(&t);
    }
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->type < b->type; });
    return out;
}

}  // namespace assay
