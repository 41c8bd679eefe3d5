#pragma once
// SamplingPolicy: decides, per trace, whether one scorer sees it.
//   1. `filter` scopes the scorer (out of scope -> filtered_out);
//   2. `always_when` conditions force inclusion of in-scope traces
//      (an error, latency above X, a tag);
//   3. otherwise u(trace_id) < sample_rate (see sampler.h).
// Built once from config; decide() is const and thread-safe.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/trace.h"
#include "sample/filter.h"

namespace assay {

// always_when: {error: true, latency_ms_above: 5000, tags: [vip], finish_reason: [length]}
struct AlwaysWhen {
    bool on_error = false;
    std::optional<double> latency_ms_above;
    std::vector<std::string> tags;
    std::vector<std::string> finish_reasons;

    static Result<AlwaysWhen> parse(const YAML::Node& node, const std::string& where);
    bool empty() const {
        return !on_error && !latency_ms_above && tags.empty() && finish_reasons.empty();
    }
    // The condition that holds ("trace has an error"), or empty.
    std::string reason(const Trace& t) const;
};

enum class SampleOutcome { filtered_out, sampled_out, sampled, forced };

struct SampleDecision {
    SampleOutcome outcome = SampleOutcome::sampled;
    std::string reason;  // filled for filtered_out, sampled_out and forced
};

struct SamplingPolicy {
    double rate = 1.0;
    std::string salt;
    Filter filter;
    AlwaysWhen always;

    SampleDecision decide(const Trace& t) const;
};

}  // namespace assay
