#pragma once
// Test support for scorers/<name>/*_test.cpp: builds a registered scorer from
// a YAML block the way the config loader does (the type's factory, then the
// unknown-key check), so a scorer's tests exercise the same path as
// production, and runs it with the error shown when a step fails. The
// REQUIRE-based helpers must be called from inside a doctest test case.

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/scorer.h"
#include "core/scorer_registry.h"

namespace assay::testing {

// True when `needle` occurs in `hay`.
inline bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

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

// The scorer built from `yaml`; fails the test case (showing the error) when
// it cannot be built. Never null.
inline std::unique_ptr<Scorer> make_scorer(const std::string& type, const std::string& yaml) {
    auto r = build_scorer(type, yaml);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    return std::move(r).value();
}

// The error building `yaml` gives; fails the test case when it builds.
inline Status build_error(const std::string& type, const std::string& yaml) {
    auto r = build_scorer(type, yaml);
    REQUIRE_FALSE(r.ok());
    return r.status();
}

// Checks that building `yaml` fails with a message naming 'key' (quoted, as
// config errors name keys); returns the error for further checks.
inline Status config_error_naming(const std::string& type, const std::string& yaml,
                                  const std::string& key) {
    const Status st = build_error(type, yaml);
    INFO(st.message());
    CHECK(contains(st.message(), "'" + key + "'"));
    return st;
}

// s.score(t); fails the test case (showing the error) when it is not OK.
inline Score score_ok(const Scorer& s, const Trace& t) {
    auto r = s.score(t);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    return r.value();
}

}  // namespace assay::testing
