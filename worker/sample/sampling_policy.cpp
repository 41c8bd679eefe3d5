#include "sample/sampling_policy.h"

#include <cstdio>

#include "sample/sampler.h"

namespace assay {

Result<AlwaysWhen> AlwaysWhen::parse(const YAML::Node& node, const std::string& where) {
    AlwaysWhen a;
    if (!node || node.IsNull()) {
        return a;
    }
    if (!node.IsMap()) {
        return Status::invalid_argument(
            where + ": expected a mapping like {error: true, latency_ms_above: 5000, tags: [vip]}");
    }
    for (const auto& kv : node) {
        const std::string key = kv.first.as<std::string>();
        const YAML::Node& v = kv.second;
        auto list = [&](std::vector<std::string>& out) -> Status {
            if (v.IsScalar()) {
                out.push_back(v.Scalar());
                return {};
            }
            if (!v.IsSequence()) {
                return Status::invalid_argument(where + "." + key + ": expected a list of strings");
            }
            for (const auto& s : v) {
                if (!s.IsScalar()) {
                    return Status::invalid_argument(where + "." + key +
                                                    ": expected a list of strings");
                }
                out.push_back(s.Scalar());
            }
            return {};
        };
        if (key == "error") {
            bool b = false;
            if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) {
                return Status::invalid_argument(where + ".error: expected true or false");
            }
            a.on_error = b;
        } else if (key == "latency_ms_above") {
            double d = 0;
            if (!v.IsScalar() || !YAML::convert<double>::decode(v, d) || d < 0) {
                return Status::invalid_argument(
                    where + ".latency_ms_above: expected a non-negative number");
            }
            a.latency_ms_above = d;
        } else if (key == "tags" || key == "tag") {
            ASSAY_RETURN_IF_ERROR(list(a.tags));
        } else if (key == "finish_reason") {
            ASSAY_RETURN_IF_ERROR(list(a.finish_reasons));
        } else {
            return Status::invalid_argument(
                where + ": unknown key '" + key +
                "' (known: error, latency_ms_above, tags, finish_reason)");
        }
    }
    return a;
}

std::string AlwaysWhen::reason(const Trace& t) const {
    if (on_error && t.error) {
        return "always_when: trace has an error (" + t.error->type + ")";
    }
    if (latency_ms_above && t.latency_ms && *t.latency_ms > *latency_ms_above) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "always_when: latency_ms %.0f > %.0f", *t.latency_ms,
                      *latency_ms_above);
        return buf;
    }
    for (const auto& tag : tags) {
        if (t.metadata.has_tag(tag)) {
            return "always_when: tag '" + tag + "'";
        }
    }
    for (const auto& fr : finish_reasons) {
        if (t.finish_reason == fr) {
            return "always_when: finish_reason '" + fr + "'";
        }
    }
    return {};
}

SampleDecision SamplingPolicy::decide(const Trace& t) const {
    if (!filter.empty() && !filter.match(t)) {
        return {SampleOutcome::filtered_out, filter.why_not(t)};
    }
    if (rate >= 1.0) {
        return {SampleOutcome::sampled, {}};
    }
    if (!always.empty()) {
        std::string r = always.reason(t);
        if (!r.empty()) {
            return {SampleOutcome::forced, std::move(r)};
        }
    }
    double u = sample_u(t.trace_id, salt);
    if (u < rate) {
        return {SampleOutcome::sampled, {}};
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "u=%.12f >= sample_rate %g", u, rate);
    return {SampleOutcome::sampled_out, buf};
}

}  // namespace assay
