// The judge client against the real fake provider (tests/fake_provider) over
// 127.0.0.1 and real libcurl: wire formats, retries, Retry-After, pauses,
// timeouts, malformed bodies, limits, cost, and API-key hygiene.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fake_provider.h"
#include "llm/judge_client.h"
#include "llm/judge_wire.h"

using namespace assay;
using assay::testing::Behaviour;
using assay::testing::FakeProvider;
using assay::testing::MalformedKind;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_key_env = "ASSAY_TEST_JUDGE_CLIENT_KEY";
constexpr const char* k_key = "sk-test-SECRET-5f3a9c0d1e2b";

struct KeyEnv {
    KeyEnv() { ::setenv(k_key_env, k_key, 1); }
    ~KeyEnv() { ::unsetenv(k_key_env); }
};

JudgeOptions options_for(const FakeProvider& fake, JudgeProvider provider) {
    JudgeOptions s;
    s.name = "primary";
    s.provider = provider;
    s.base_url = fake.base_url() + "/v1/";
    s.model = provider == JudgeProvider::openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest";
    s.api_key_env = k_key_env;
    s.max_tokens = 64;
    s.timeout_ms = 3000;
    s.connect_timeout_ms = 1000;
    s.max_retries = 2;
    s.backoff_base_ms = 10;
    s.backoff_max_ms = 40;
    s.rng_seed = 42;
    s.price.input_per_mtok = 2.5;
    s.price.output_per_mtok = 10.0;
    return s;
}

std::unique_ptr<JudgeClient> make_client(const JudgeOptions& spec) {
    auto client = make_judge_client(spec);
    REQUIRE_MESSAGE(client.ok(), client.status().to_string());
    return std::move(client).value();
}

JudgeRequest request(std::string user, std::string id = "trace-1") {
    return JudgeRequest{"You are a judge. Reply with JSON.", std::move(user), std::move(id)};
}

JudgeResult judge(JudgeClient& client, JudgeRequest r) {
    auto f = client.submit_future(std::move(r));
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
}

FakeProvider& started(FakeProvider& fake) {
    REQUIRE_MESSAGE(fake.start() > 0, fake.error());
    return fake;
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("judge client: OpenAI wire format, usage, cost and key in the header only") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::openai));
    const JudgeResult r = judge(*client, request("Rate this answer: 42"));
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.id == "trace-1");
    CHECK(r.http_status == 200);
    CHECK(r.attempts == 1);
    CHECK(contains(r.text, "\"score\""));
    CHECK(r.input_tokens > 0);
    CHECK(r.output_tokens > 0);
    CHECK(r.cost_usd == doctest::Approx(r.input_tokens * 2.5e-6 + r.output_tokens * 10e-6));
    CHECK(r.latency_ms > 0.0);

    const auto recs = fake.requests();
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].path == "/v1/chat/completions");
    CHECK(recs[0].header("Authorization") == std::string("Bearer ") + k_key);
    CHECK(recs[0].header("x-api-key").empty());
    CHECK_FALSE(contains(recs[0].body, k_key));
    const auto body = nlohmann::json::parse(recs[0].body);
    CHECK(body["model"] == "gpt-4o-mini");
    CHECK(body["max_completion_tokens"] == 64);
    CHECK_FALSE(body.contains("max_tokens"));
    CHECK(body["temperature"] == 0.0);
    CHECK(body["response_format"]["type"] == "json_object");
    REQUIRE(body["messages"].size() == 2);
    CHECK(body["messages"][0]["role"] == "system");
    CHECK(body["messages"][1]["role"] == "user");
    CHECK(body["messages"][1]["content"] == "Rate this answer: 42");

    const auto st = client->status();
    CHECK(st.state == JudgeClientStatus::State::active);
    CHECK(st.succeeded == 1);
    CHECK(st.attempts == 1);
    CHECK(st.cost_usd == doctest::Approx(r.cost_usd));
}

TEST_CASE("judge client: Anthropic wire format (x-api-key, anthropic-version, system field)") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::anthropic);
    spec.extra_headers = {{"X-Assay-Test", "yes"}};
    auto client = make_client(spec);
    fake.enqueue(Behaviour::reply_text("{\"reasoning\":\"fine\",\"score\":4}").with_usage(120, 30));
    const JudgeResult r = judge(*client, request("Rate this answer"));
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.text == "{\"reasoning\":\"fine\",\"score\":4}");
    CHECK(r.input_tokens == 120);
    CHECK(r.output_tokens == 30);

    const auto recs = fake.requests();
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].path == "/v1/messages");
    CHECK(recs[0].header("x-api-key") == k_key);
    CHECK(recs[0].header("anthropic-version") == "2023-06-01");
    CHECK(recs[0].header("Authorization").empty());
    CHECK(recs[0].header("X-Assay-Test") == "yes");
    const auto body = nlohmann::json::parse(recs[0].body);
    CHECK(body["system"] == "You are a judge. Reply with JSON.");
    CHECK(body["max_tokens"] == 64);
    CHECK_FALSE(body.contains("response_format"));
    REQUIRE(body["messages"].size() == 1);
    CHECK(body["messages"][0]["role"] == "user");
}

TEST_CASE("judge client: a large prompt is sent without a 100-continue stall") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::openai));
    const JudgeResult r = judge(*client, request(std::string(20000, 'x')));
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.latency_ms < 500.0);
    const auto recs = fake.requests();
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].header("Expect").empty());
}

TEST_CASE("judge client: connections are reused across requests") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::anthropic));
    for (int i = 0; i < 10; ++i) {
        REQUIRE(judge(*client, request("q" + std::to_string(i))).ok());
    }
    CHECK(client->status().connections == 1);
}

TEST_CASE("judge client: cost is usage x price") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::openai));
    fake.enqueue(Behaviour::reply_score(3).with_usage(1000, 200));
    fake.enqueue(Behaviour::reply_score(3).with_usage(3000, 0));
    const JudgeResult a = judge(*client, request("a"));
    const JudgeResult b = judge(*client, request("b"));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a.cost_usd == doctest::Approx(1000 * 2.5 / 1e6 + 200 * 10.0 / 1e6));  // 0.0045
    CHECK(b.cost_usd == doctest::Approx(0.0075));
    const auto st = client->status();
    CHECK(st.input_tokens == 4000);
    CHECK(st.output_tokens == 200);
    CHECK(st.cost_usd == doctest::Approx(0.012));
}

TEST_CASE("judge client: 429 with Retry-After is honoured, then succeeds; AIMD cuts the rate") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::openai));
    fake.enqueue(Behaviour::rate_limited(1));
    const JudgeResult r = judge(*client, request("x"));
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.attempts == 2);
    CHECK(r.total_ms >= 950.0);
    const auto recs = fake.requests();
    REQUIRE(recs.size() == 2);
    CHECK(recs[1].arrival - recs[0].arrival >= 950ms);
    const auto st = client->status();
    CHECK(st.attempts == 2);
    CHECK(st.retries == 1);
    CHECK(st.rate_limited == 1);
    CHECK(st.rate_factor < 1.0);
}

TEST_CASE("judge client: AIMD halves the rate on 429 and recovers slowly with successes") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.max_concurrency = 8;
    spec.requests_per_minute = 6000;
    auto client = make_client(spec);
    fake.enqueue(Behaviour::error(429));  // no Retry-After: back-off only
    const JudgeResult r = judge(*client, request("x"));
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.attempts == 2);
    const double after_cut = client->status().rate_factor;
    CHECK(after_cut == doctest::Approx(0.52));  // halved, then one success
    for (int i = 0; i < 10; ++i) {
        REQUIRE(judge(*client, request("q" + std::to_string(i))).ok());
    }
    const double recovered = client->status().rate_factor;
    CHECK(recovered == doctest::Approx(0.72));
    CHECK(recovered < 1.0);
}

TEST_CASE("judge client: 500 and 503 are retried with back-off") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::openai));
    fake.enqueue(Behaviour::error(500));
    fake.enqueue(Behaviour::error(503));
    const JudgeResult r = judge(*client, request("x"));
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.attempts == 3);
    CHECK(fake.counters().requests == 3);

    // Out of retries: the last error is reported with the attempt count.
    fake.enqueue(Behaviour::error(500), 3);
    const JudgeResult e = judge(*client, request("y"));
    CHECK(e.error == JudgeError::server_error);
    CHECK(e.attempts == 3);
    CHECK(e.http_status == 500);
    CHECK(e.status.code() == StatusCode::unavailable);
    CHECK(contains(e.status.message(), "HTTP 500"));
    CHECK(contains(e.status.message(), "after 3 attempts"));
}

TEST_CASE("judge client: 400 is not retried and the provider's message is recorded") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::openai));
    Behaviour bad = Behaviour::error(400);
    bad.error_message = "messages[1].content: too long";
    fake.enqueue(bad);
    const JudgeResult r = judge(*client, request("x"));
    CHECK(r.error == JudgeError::bad_request);
    CHECK(r.attempts == 1);
    CHECK(r.http_status == 400);
    CHECK(r.status.code() == StatusCode::invalid_argument);
    CHECK(contains(r.status.message(), "judge 'primary'"));
    CHECK(contains(r.status.message(), "HTTP 400"));
    CHECK(contains(r.status.message(), "messages[1].content: too long"));
    CHECK(fake.counters().requests == 1);
    // A 400 does not pause the judge.
    CHECK(client->status().state == JudgeClientStatus::State::active);
    CHECK(judge(*client, request("y")).ok());
}

TEST_CASE("judge client: 401 is not retried and pauses the judge until resume()") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::anthropic));
    Behaviour denied = Behaviour::error(401);
    denied.error_message = "invalid x-api-key";
    fake.enqueue(denied);
    const JudgeResult r = judge(*client, request("x"));
    CHECK(r.error == JudgeError::auth);
    CHECK(r.attempts == 1);
    CHECK(r.http_status == 401);
    CHECK(contains(r.status.message(), "invalid x-api-key"));
    CHECK(contains(r.status.message(), "authentication_error"));

    auto st = client->status();
    CHECK(st.state == JudgeClientStatus::State::paused);
    CHECK(contains(st.pause_reason, "HTTP 401"));

    // Further requests fail fast and spend nothing.
    const JudgeResult p = judge(*client, request("y"));
    CHECK(p.error == JudgeError::paused);
    CHECK(p.attempts == 0);
    CHECK(p.status.message().rfind("paused: ", 0) == 0);
    CHECK(fake.counters().requests == 1);

    client->resume();
    const JudgeResult ok = judge(*client, request("z"));
    CHECK_MESSAGE(ok.ok(), ok.status.to_string());
    CHECK(client->status().state == JudgeClientStatus::State::active);
}

TEST_CASE("judge client: billing bodies, 402, 403 and an unknown model pause the judge") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    struct Case {
        Behaviour behaviour;
        JudgeError expected;
    };
    const std::vector<Case> cases = {
        {Behaviour::insufficient_quota(429), JudgeError::billing},
        {Behaviour::error(402), JudgeError::billing},
        {Behaviour::error(403), JudgeError::auth},
        {Behaviour::error(404), JudgeError::unknown_model},
    };
    for (const auto& c : cases) {
        fake.reset();
        auto client = make_client(options_for(fake, JudgeProvider::openai));
        fake.enqueue(c.behaviour);
        const JudgeResult r = judge(*client, request("x"));
        CHECK(r.error == c.expected);
        CHECK(r.attempts == 1);
        CHECK(client->status().state == JudgeClientStatus::State::paused);
        CHECK(judge(*client, request("y")).error == JudgeError::paused);
        CHECK(fake.counters().requests == 1);
    }
    // A real unknown model, checked by the fake.
    fake.reset();
    fake.set_known_models({"gpt-4o-mini"});
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.model = "gpt-9-imaginary";
    auto client = make_client(spec);
    const JudgeResult r = judge(*client, request("x"));
    CHECK(r.error == JudgeError::unknown_model);
    CHECK(contains(r.status.message(), "model_not_found"));
    CHECK(contains(client->status().pause_reason, "model_not_found"));
}

TEST_CASE("judge client: a hang ends in a timeout error") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.timeout_ms = 300;
    spec.max_retries = 0;
    auto client = make_client(spec);
    fake.enqueue(Behaviour::hang_forever());
    const JudgeResult r = judge(*client, request("x"));
    CHECK(r.error == JudgeError::timeout);
    CHECK(r.attempts == 1);
    CHECK(r.latency_ms >= 250.0);
    CHECK(r.latency_ms < 2000.0);
    CHECK(contains(r.status.message(), "timed out"));
    fake.release_hung();

    // With a retry left, the next attempt succeeds.
    spec.max_retries = 1;
    auto retrying = make_client(spec);
    fake.enqueue(Behaviour::hang_forever());
    const JudgeResult ok = judge(*retrying, request("y"));
    CHECK_MESSAGE(ok.ok(), ok.status.to_string());
    CHECK(ok.attempts == 2);
}

TEST_CASE("judge client: malformed bodies are errors after retries") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.breaker_failures = 0;  // five failures in a row here: keep the breaker out of it
    auto client = make_client(spec);
    fake.set_default(Behaviour::malformed_reply(MalformedKind::not_json));
    const JudgeResult r = judge(*client, request("x"));
    CHECK(r.error == JudgeError::malformed);
    CHECK(r.attempts == 3);
    CHECK(fake.counters().requests == 3);
    CHECK(contains(r.status.message(), "malformed"));

    fake.set_default(Behaviour{});
    fake.enqueue(Behaviour::malformed_reply(MalformedKind::truncated_json));
    fake.enqueue(Behaviour::malformed_reply(MalformedKind::cut_connection));
    const JudgeResult ok = judge(*client, request("y"));
    CHECK_MESSAGE(ok.ok(), ok.status.to_string());
    CHECK(ok.attempts == 3);
}

TEST_CASE("judge client: max_concurrency is respected") {
    KeyEnv env;
    testing::FakeProviderOptions options;
    options.default_behaviour = Behaviour{}.with_latency(100);
    FakeProvider fake(options);
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.max_concurrency = 4;
    auto client = make_client(spec);
    std::vector<std::future<JudgeResult>> futures;
    for (int i = 0; i < 16; ++i) {
        futures.push_back(client->submit_future(request("q" + std::to_string(i))));
    }
    for (auto& f : futures) {
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        CHECK(f.get().ok());
    }
    const auto c = fake.counters();
    CHECK(c.requests == 16);
    CHECK(c.max_in_flight <= 4);
    CHECK(c.max_in_flight >= 3);
}

// The rate itself (judgements/s against max_concurrency / latency) is a
// performance target: bench/judge_bench.cpp measures it, not this test.
TEST_CASE("judge client: 160 requests at max_concurrency 32 keep 32 in flight") {
    KeyEnv env;
    testing::FakeProviderOptions options;
    options.default_behaviour = Behaviour{}.with_latency(100);
    FakeProvider fake(options);
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.max_concurrency = 32;
    auto client = make_client(spec);
    std::vector<std::future<JudgeResult>> futures;
    for (int i = 0; i < 160; ++i) {
        futures.push_back(client->submit_future(request("q" + std::to_string(i))));
    }
    for (auto& f : futures) {
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        CHECK(f.get().ok());
    }
    CHECK(fake.counters().requests == 160);
    CHECK(fake.counters().max_in_flight == 32);
    CHECK(client->status().connections <= 32);
}

TEST_CASE("judge client: the requests_per_minute bucket bounds starts in a window") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.requests_per_minute = 600;  // burst 10, then ~9.8 per second
    auto client = make_client(spec);
    std::vector<std::future<JudgeResult>> futures;
    for (int i = 0; i < 25; ++i) {
        futures.push_back(client->submit_future(request("q" + std::to_string(i))));
    }
    // Start times as the client saw them (server arrival times add network
    // and thread-pool jitter, which is not what the bucket bounds).
    std::vector<std::chrono::steady_clock::time_point> starts;
    for (auto& f : futures) {
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        const JudgeResult r = f.get();
        CHECK(r.ok());
        starts.push_back(r.started_at);
    }
    CHECK(fake.counters().requests == 25);
    std::sort(starts.begin(), starts.end());
    // 15 after the burst of 10 at ~9.83/s: at least ~1.5 s.
    CHECK(starts.back() - starts.front() >= 1400ms);
    // No 1 s window holds more than the burst plus one second of refill.
    for (std::size_t i = 0; i < starts.size(); ++i) {
        std::size_t in_window = 0;
        for (std::size_t j = i; j < starts.size() && starts[j] - starts[i] < 1s; ++j) {
            ++in_window;
        }
        CHECK(in_window <= 20);
    }
    CHECK(client->status().attempts == 25);
}

TEST_CASE("judge client: the API key never appears in error messages or bodies") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    auto client = make_client(options_for(fake, JudgeProvider::openai));
    // A provider that echoes the key back in its error message.
    Behaviour echo = Behaviour::error(401);
    echo.error_message = std::string("Incorrect API key provided: ") + k_key;
    fake.enqueue(echo);
    const JudgeResult r = judge(*client, request("x"));
    CHECK(r.error == JudgeError::auth);
    CHECK_FALSE(contains(r.status.message(), k_key));
    CHECK(contains(r.status.message(), "[redacted]"));
    const auto st = client->status();
    CHECK_FALSE(contains(st.pause_reason, k_key));
    const JudgeResult p = judge(*client, request("y"));
    CHECK_FALSE(contains(p.status.message(), k_key));
    for (const auto& rec : fake.requests()) {
        CHECK_FALSE(contains(rec.body, k_key));
        CHECK_FALSE(contains(rec.path, k_key));
    }

    // A missing variable is named; no value is shown.
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.api_key_env = "ASSAY_TEST_JUDGE_KEY_THAT_IS_NOT_SET";
    auto missing = make_judge_client(spec);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == StatusCode::invalid_argument);
    CHECK(contains(missing.status().message(), "ASSAY_TEST_JUDGE_KEY_THAT_IS_NOT_SET"));
}

TEST_CASE("judge client: the circuit breaker opens after consecutive failures, then half-opens") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.max_retries = 0;
    spec.breaker_failures = 2;
    spec.breaker_cooldown_ms = 300;
    auto client = make_client(spec);
    fake.enqueue(Behaviour::error(500), 2);
    CHECK(judge(*client, request("a")).error == JudgeError::server_error);
    CHECK(judge(*client, request("b")).error == JudgeError::server_error);
    CHECK(client->status().state == JudgeClientStatus::State::circuit_open);
    const JudgeResult open = judge(*client, request("c"));
    CHECK(open.error == JudgeError::circuit_open);
    CHECK(open.attempts == 0);
    CHECK(fake.counters().requests == 2);
    std::this_thread::sleep_for(350ms);
    const JudgeResult trial = judge(*client, request("d"));
    CHECK_MESSAGE(trial.ok(), trial.status.to_string());
    CHECK(client->status().state == JudgeClientStatus::State::active);
}

TEST_CASE("judge client: tokens_per_minute delays requests over the token budget") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.max_tokens = 100;
    // Each request is estimated at ~110 tokens; the bucket holds 600 (one
    // second's worth of 36000/min), so from the 6th on requests wait for refills.
    spec.tokens_per_minute = 36000;
    auto client = make_client(spec);
    std::vector<std::future<JudgeResult>> futures;
    for (int i = 0; i < 8; ++i) {
        futures.push_back(client->submit_future(request("q" + std::to_string(i))));
    }
    std::vector<std::chrono::steady_clock::time_point> starts;
    for (auto& f : futures) {
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        const JudgeResult r = f.get();
        CHECK(r.ok());
        starts.push_back(r.started_at);
    }
    std::sort(starts.begin(), starts.end());
    // 5 x ~108 tokens fit the 600-token burst; the 8th waits ~0.4 s.
    CHECK(starts.back() - starts.front() >= 300ms);
}

TEST_CASE("judge client: destroying the client cancels what is in flight") {
    KeyEnv env;
    FakeProvider fake;
    started(fake);
    JudgeOptions spec = options_for(fake, JudgeProvider::openai);
    spec.timeout_ms = 30000;
    auto client = make_client(spec);
    fake.enqueue(Behaviour::hang_forever());
    auto f = client->submit_future(request("x"));
    while (fake.counters().hangs == 0) {
        std::this_thread::sleep_for(5ms);
    }
    client.reset();
    REQUIRE(f.wait_for(1s) == std::future_status::ready);
    CHECK(f.get().error == JudgeError::cancelled);
}

TEST_CASE("judge client: spec validation names the field") {
    JudgeOptions spec;
    spec.name = "primary";
    spec.base_url = "ftp://example";
    spec.model = "m";
    auto r = make_judge_client(spec);
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.status().message(), "base_url"));
    spec.base_url = "http://127.0.0.1:1/v1";
    spec.max_concurrency = 0;
    CHECK(contains(validate_judge_options(spec).message(), "max_concurrency"));
    CHECK(parse_judge_provider("anthropic").ok());
    CHECK_FALSE(parse_judge_provider("cohere").ok());
}

TEST_CASE("judge wire: usage with prompt-cache hits is priced at the cached rate") {
    auto oa = parse_judge_reply(JudgeProvider::openai, R"({"choices":[{"message":{"content":"x"}}],
        "usage":{"prompt_tokens":1000,"completion_tokens":100,"prompt_tokens_details":{"cached_tokens":600}}})");
    REQUIRE(oa.ok());
    CHECK(oa->input_tokens == 1000);
    CHECK(oa->cached_input_tokens == 600);
    auto an =
        parse_judge_reply(JudgeProvider::anthropic, R"({"content":[{"type":"text","text":"x"}],
        "usage":{"input_tokens":400,"cache_read_input_tokens":600,"cache_creation_input_tokens":0,"output_tokens":100}})");
    REQUIRE(an.ok());
    CHECK(an->input_tokens == 1000);
    CHECK(an->cached_input_tokens == 600);
    JudgePrice price;
    price.input_per_mtok = 2.0;
    price.output_per_mtok = 10.0;
    // Without a cached price, every input token costs the input price.
    CHECK(judge_reply_cost(price, *oa) == doctest::Approx((1000 * 2.0 + 100 * 10.0) / 1e6));
    price.cached_input_per_mtok = 0.5;
    CHECK(judge_reply_cost(price, *oa) ==
          doctest::Approx((400 * 2.0 + 600 * 0.5 + 100 * 10.0) / 1e6));
    CHECK(judge_reply_cost(price, *an) == doctest::Approx(judge_reply_cost(price, *oa)));
}

TEST_CASE("judge client: wire parsing of untrusted bodies never throws") {
    CHECK_FALSE(parse_judge_reply(JudgeProvider::openai, "").ok());
    CHECK_FALSE(parse_judge_reply(JudgeProvider::openai, "[1,2]").ok());
    CHECK_FALSE(parse_judge_reply(JudgeProvider::openai, R"({"choices":[1]})").ok());
    CHECK_FALSE(
        parse_judge_reply(JudgeProvider::openai, R"({"choices":[{"message":{"content":null}}]})")
            .ok());
    CHECK_FALSE(parse_judge_reply(JudgeProvider::anthropic, R"({"content":[{"type":"x"}]})").ok());
    auto ok =
        parse_judge_reply(JudgeProvider::anthropic,
                          R"({"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],
                                    "usage":{"input_tokens":3,"output_tokens":-4}})");
    REQUIRE(ok.ok());
    CHECK(ok->text == "ab");
    CHECK(ok->input_tokens == 3);
    CHECK(ok->output_tokens == 0);
    const auto pe = parse_provider_error(R"({"error":{"message":"m","type":"t","code":"c"}})");
    CHECK(pe.message == "m");
    CHECK(pe.code == "c");
    CHECK(parse_provider_error("<html>bad gateway</html>").message == "<html>bad gateway</html>");
}
