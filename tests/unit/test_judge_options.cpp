// judges: config entries -> JudgeRuntime (transport options, budget, cache,
// redaction), and the Retry-After cap against the real fake provider.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <future>

#include "config/config.h"
#include "fake_provider.h"
#include "judge/judge_options.h"

using namespace assay;
using namespace std::chrono_literals;

TEST_CASE("judge options: every key maps to the transport, with defaults") {
    auto r = judge_runtime_from_json(
        R"({"name": "primary", "provider": "openai", "model": "gpt-4o-2024-08-06",
        "api_key_env": "OPENAI_API_KEY", "temperature": 0.5, "max_tokens": 256, "max_concurrency": 8,
        "requests_per_minute": 600, "tokens_per_minute": 200000, "timeout_ms": 20000,
        "connect_timeout_ms": 2000, "max_retries": 3, "max_retry_after_ms": 5000,
        "price": {"input_per_mtok": 2.5, "output_per_mtok": 10}, "daily_budget_usd": 20,
        "headers": {"OpenAI-Organization": "org-1"}, "cache": false, "redact": ["email"]})");
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    const JudgeOptions& o = r->transport;
    CHECK(o.name == "primary");
    CHECK(o.provider == JudgeProvider::openai);
    CHECK(o.base_url == "https://api.openai.com/v1");
    CHECK(o.model == "gpt-4o-2024-08-06");
    CHECK(o.api_key_env == "OPENAI_API_KEY");
    CHECK(o.temperature == 0.5);
    CHECK(o.max_tokens == 256);
    CHECK(o.max_concurrency == 8);
    CHECK(o.requests_per_minute == 600);
    CHECK(o.tokens_per_minute == 200000);
    CHECK(o.timeout_ms == 20000);
    CHECK(o.connect_timeout_ms == 2000);
    CHECK(o.max_retries == 3);
    CHECK(o.max_retry_after_ms == 5000);
    CHECK(o.price.input_per_mtok == 2.5);
    CHECK(o.price.output_per_mtok == 10.0);
    REQUIRE(o.extra_headers.size() == 1);
    CHECK(o.extra_headers[0].first == "OpenAI-Organization");
    CHECK(r->daily_budget_usd == 20.0);
    CHECK_FALSE(r->cache);
    CHECK(r->redact.email);
    CHECK_FALSE(r->redact.phone);
    CHECK_FALSE(r->redact.card);

    auto d =
        judge_runtime_from_json(R"({"name": "c", "provider": "anthropic", "model": "claude-x"})");
    REQUIRE(d.ok());
    CHECK(d->transport.base_url == "https://api.anthropic.com/v1");
    CHECK(d->transport.max_tokens == 512);
    CHECK(d->transport.max_retry_after_ms == 60000);
    CHECK(d->daily_budget_usd == 0.0);
    CHECK(d->cache);
    CHECK(d->redact.email);
    CHECK(d->redact.phone);
    CHECK(d->redact.card);
}

TEST_CASE("judge options: errors name the judge and the key") {
    auto msg = [](const char* j) {
        auto r = judge_runtime_from_json(j);
        REQUIRE_FALSE(r.ok());
        return r.status().message();
    };
    CHECK(msg(R"({"name": "p", "provider": "openai", "model": "m", "max_tokens": "many"})") ==
          "judge 'p': key 'max_tokens': expected a number, got \"many\"");
    CHECK(msg(R"({"name": "p", "provider": "openai", "model": "m", "max_tokens": 1.5})") ==
          "judge 'p': key 'max_tokens': expected an integer, got 1.5");
    CHECK(msg(R"({"name": "p", "provider": "gemini", "model": "m"})") ==
          "judge 'p': key 'provider': must be openai or anthropic, got 'gemini'");
    CHECK(msg(R"({"name": "p", "provider": "openai", "model": "m", "colour": 1})") ==
          "judge 'p': unknown key 'colour'");
    CHECK(msg(R"({"name": "p", "provider": "openai", "model": "m", "price": {"input": 1}})") ==
          "judge 'p': price: unknown key 'input'");
    CHECK(msg(R"({"name": "p", "provider": "openai", "model": "m", "redact": ["ssn"]})") ==
          "judge 'p': key 'redact': unknown kind 'ssn' (known: email, phone, card)");
    CHECK(msg(R"({"name": "p", "provider": "openai", "model": "m", "max_retry_after_ms": 0})") ==
          "judge 'p': key 'max_retry_after_ms': must be >= 1");
    CHECK(msg(R"({"name": "p", "provider": "openai", "model": "m", "daily_budget_usd": -1})") ==
          "judge 'p': key 'daily_budget_usd': must be >= 0 (0 = no budget)");
}

TEST_CASE("judge options: a long Retry-After is cut to max_retry_after_ms") {
    ::setenv("ASSAY_TEST_RA_KEY", "sk-ra", 1);
    assay::testing::FakeProvider fake;
    REQUIRE(fake.start() > 0);
    fake.enqueue(assay::testing::Behaviour::rate_limited(3600));  // one hour
    auto r = judge_runtime_from_json(R"({"name": "p", "provider": "openai", "model": "m",
        "api_key_env": "ASSAY_TEST_RA_KEY", "max_retry_after_ms": 300, "base_url": ")" +
                                     fake.base_url() + R"(/v1"})");
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    r->transport.backoff_base_ms = 10;
    r->transport.backoff_max_ms = 20;
    auto client = make_judge_client(r->transport);
    REQUIRE(client.ok());
    const auto t0 = std::chrono::steady_clock::now();
    auto f = (*client)->submit_future(JudgeRequest{"sys", "judge this", "t1"});
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    JudgeResult res = f.get();
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(res.ok());
    CHECK(res.attempts == 2);
    CHECK(waited >= 250ms);
    CHECK(waited < 5s);
    ::unsetenv("ASSAY_TEST_RA_KEY");
}

TEST_CASE("judge options: assay.yaml errors name the entry, the judge and the key") {
    auto c = load_config_text(
        "judges: [{name: j, provider: openai, model: m, max_retry_after_ms: 0}]\n"
        "scorers: [{type: refusal}]",
        "t.yaml", ".", {}, {});
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message() ==
          "t.yaml: judges[0]: judge 'j': key 'max_retry_after_ms': must be >= 1");
    auto ok = load_config_text(
        "judges: [{name: j, provider: anthropic, model: m, cache: false, redact: [card],\n"
        "          max_retry_after_ms: 1000, json_response_format: false}]\n"
        "scorers: [{type: refusal}]",
        "t.yaml", ".", {}, {});
    REQUIRE_MESSAGE(ok.ok(), ok.status().to_string());
    auto rt = judge_runtime_from_spec(ok->judges.at(0));
    REQUIRE(rt.ok());
    CHECK_FALSE(rt->cache);
    CHECK(rt->redact.card);
    CHECK_FALSE(rt->redact.email);
    CHECK_FALSE(rt->transport.json_response_format);
}
