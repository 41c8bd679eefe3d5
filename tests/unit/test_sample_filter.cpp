#include <doctest/doctest.h>

#include <cmath>

#include "core/trace_json.h"
#include "sample/sampler.h"
#include "sample/sampling_policy.h"

using namespace assay;

namespace {
Trace trace(const std::string& md, const std::string& extra = "") {
    auto t =
        parse_trace(R"({"trace_id":"id-1","output":"x","metadata":)" + md + extra + "}", {}, 0);
    REQUIRE_MESSAGE(t.ok(), t.status().message());
    return *t;
}
Filter filter(const std::string& yaml) {
    auto f = Filter::parse(YAML::Load(yaml), "filter");
    REQUIRE_MESSAGE(f.ok(), f.status().message());
    return *f;
}
}  // namespace

TEST_CASE("filter: expressions and mappings") {
    Trace chat_prod = trace(R"({"feature":"chat","environment":"prod","prompt_version":3})");
    Trace search_staging = trace(R"({"feature":"search","environment":"staging"})");
    Trace bare = trace("{}");

    Filter f = filter(R"(["feature in [chat, search]", "environment == prod"])");
    CHECK(f.match(chat_prod));
    CHECK_FALSE(f.match(search_staging));
    CHECK(f.why_not(search_staging) == "metadata.environment is 'staging', filter wants == prod");
    CHECK_FALSE(f.match(bare));
    CHECK(f.why_not(bare) == "metadata.feature is missing, filter wants one of [chat, search]");

    Filter m = filter("{feature: [chat], prompt_version: 3}");
    CHECK(m.match(chat_prod));
    CHECK_FALSE(m.match(search_staging));

    Filter neg = filter(R"(["environment != staging", "feature not in ['search']"])");
    CHECK(neg.match(chat_prod));
    CHECK(neg.match(bare));
    CHECK_FALSE(neg.match(search_staging));

    CHECK_FALSE(Filter::parse(YAML::Load("'feature in chat'"), "f").ok());
    CHECK_FALSE(Filter::parse(YAML::Load("'== x'"), "f").ok());
}

TEST_CASE("sampling policy: filter, then always_when, then rate") {
    SamplingPolicy p;
    p.rate = 0.0;
    p.filter = filter("{environment: prod}");
    auto always =
        AlwaysWhen::parse(YAML::Load("{error: true, latency_ms_above: 1000, tags: [vip]}"), "a");
    REQUIRE(always.ok());
    p.always = *always;

    CHECK(
        p.decide(trace(R"({"environment":"staging"})", R"(,"error":{"type":"timeout"})")).outcome ==
        SampleOutcome::filtered_out);
    CHECK(p.decide(trace(R"({"environment":"prod"})")).outcome == SampleOutcome::sampled_out);
    auto err = p.decide(trace(R"({"environment":"prod"})", R"(,"error":{"type":"timeout"})"));
    CHECK(err.outcome == SampleOutcome::forced);
    CHECK(err.reason == "always_when: trace has an error (timeout)");
    CHECK(p.decide(trace(R"({"environment":"prod"})", R"(,"latency_ms":1500)")).outcome ==
          SampleOutcome::forced);
    CHECK(p.decide(trace(R"({"environment":"prod"})", R"(,"latency_ms":500)")).outcome ==
          SampleOutcome::sampled_out);
    CHECK(p.decide(trace(R"({"environment":"prod","tags":["vip"]})")).outcome ==
          SampleOutcome::forced);

    SamplingPolicy half;
    half.rate = 0.5;
    half.rate = 0.5;
    const double u = sample_u("id-1", "");
    auto d = half.decide(trace("{}"));
    CHECK(d.outcome == (u < 0.5 ? SampleOutcome::sampled : SampleOutcome::sampled_out));
    half.rate = u;  // u < rate is strict: at rate == u the trace is out
    d = half.decide(trace("{}"));
    CHECK(d.outcome == SampleOutcome::sampled_out);
    CHECK(d.reason.find(">= sample_rate") != std::string::npos);
    half.rate = std::nextafter(u, 1.0);
    CHECK(half.decide(trace("{}")).outcome == SampleOutcome::sampled);
}
