#pragma once
// Test support: builds a registered scorer from a YAML block the way the
// config loader does (the type's factory, then the unknown-key check), so a
// scorer's tests exercise the same path as production.

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "core/scorer.h"
#include "core/scorer_registry.h"

namespace assay::testing {

// The scorer, or the factory's / the block's first error. An unregistered
// type is an internal error.
inline Result<std::unique_ptr<Scorer>> build_scorer(const std::string& type,
                                                    const std::string& yaml) {
    const ScorerType* t = ScorerRegistry::instance().find(type);
    if (t == nullptr) {
        return Status::internal("scorer type '" + type + "' is not registered");
    }
    ConfigBlock block(YAML::Load(yaml), "scorers[0] (" + type + ")");
    auto made = t->make(block);
    Status st = block.finish();
    if (!st.ok()) {
        return st;
    }
    return made;
}

}  // namespace assay::testing
