#pragma once
// The table of scorer types, filled at static-initialisation time by
// ASSAY_REGISTER_SCORER in each scorers/<name>/ folder. Scorers are built as
// CMake OBJECT libraries so the linker keeps their registrations.
// Registering a type name twice is a bug: the process aborts with a message.
// Reads after main() starts are thread-safe (the table no longer changes).

#include <vector>

#include "core/scorer.h"

namespace assay {

class ScorerRegistry {
public:
    static ScorerRegistry& instance();

    // Adds a type; aborts the process if the name is taken.
    bool add(ScorerType type);
    // nullptr when `type` is not registered.
    const ScorerType* find(const std::string& type) const;
    // Sorted by type name.
    std::vector<const ScorerType*> all() const;

private:
    std::vector<ScorerType> m_types;
};

}  // namespace assay

#define ASSAY_SCORER_CONCAT2(a, b) a##b
#define ASSAY_SCORER_CONCAT(a, b) ASSAY_SCORER_CONCAT2(a, b)
// Use once per scorer type, at namespace scope in its .cpp:
//   ASSAY_REGISTER_SCORER(make_refusal_type());
#define ASSAY_REGISTER_SCORER(type_expr)                                                  \
    [[maybe_unused]] static const bool ASSAY_SCORER_CONCAT(assay_registered_, __LINE__) = \
        ::assay::ScorerRegistry::instance().add(type_expr)
