#pragma once
// ConfiguredScorer: one entry of the config's `scorers:` list, built once at
// startup: its registered type, its derived version, its sampling policy and
// the Scorer (or DeferredScorer) instance. Immutable after build; shared by all pipeline threads.

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "core/scorer.h"
#include "core/status.h"
#include "sample/sampling_policy.h"
#include "store/store.h"

namespace assay {

struct ConfiguredScorer {
    std::string name;
    std::string type;
    // "<impl_version>.<8 hex of SHA-256 over the scorer's own keys and any
    // files they name>": a config change is a new version, old scores stay.
    std::string version;
    const ScorerType* type_info = nullptr;
    SamplingPolicy policy;
    std::shared_ptr<const Scorer> impl;              // a code scorer, or
    std::shared_ptr<const DeferredScorer> deferred;  // a deferred (judge) scorer
    std::string config_json;                         // the entry as JSON, stored in scorer_versions
    bool is_judge() const { return deferred != nullptr; }
    // Gate-only: compares a baseline and a candidate (DeferredScorer::pairwise).
    bool is_pairwise() const { return deferred != nullptr && deferred->pairwise(); }
};

// Builds every entry of `scorers` (a YAML list). Errors name the entry and the
// key: "scorers[2] (length): key 'max_words': expected a number, got 'many'".
// `salt` is sampler.salt; `base_dir` resolves relative paths.
Result<std::vector<ConfiguredScorer>> build_scorers(const YAML::Node& scorers,
                                                    const std::string& salt,
                                                    const std::string& base_dir);

// The rows to pass to Store::register_scorers() before storing scores.
std::vector<ScorerVersionInfo> version_infos(const std::vector<ConfiguredScorer>& scorers);

}  // namespace assay
