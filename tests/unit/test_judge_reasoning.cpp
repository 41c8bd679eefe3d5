// Judges on today's models, against the real fake provider (which follows
// the providers' documented rules for reasoning models and extended
// thinking): max_completion_tokens, temperature left out, reasoning_effort,
// unsupported parameters pausing the judge with the fix, truncated replies
// as their own error (with the one retry at a larger budget), the Responses
// API, Anthropic thinking, and usage/cost of every billed attempt.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fake_provider.h"
#include "judge/judge_options.h"
#include "llm/judge_client.h"
#include "llm/judge_wire.h"
#include "scoped_env.h"

using namespace assay;
using assay::testing::Behaviour;
using assay::testing::FakeProvider;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* k_key_env = "ASSAY_TEST_JUDGE_REASONING_KEY";

struct KeyEnv : assay::testing::ScopedEnv {
    KeyEnv() : ScopedEnv(k_key_env, "sk-test-reasoning") {}
};

// The options a `judges:` entry gives (judge_options.cpp), pointed at the fake.
JudgeOptions judge_for(const FakeProvider& fake, const std::string& extra_keys) {
    const std::string config =
        R"({"name": "j", "api_key_env": ")" + std::string(k_key_env) + R"(", "base_url": ")" +
        fake.base_url() + R"(/v1", )" + R"("max_retries": 1, "timeout_ms": 5000, )" +
        R"("price": {"input_per_mtok": 1, "output_per_mtok": 8}, )" + extra_keys + "}";
    auto rt = judge_runtime_from_json(config);
    REQUIRE_MESSAGE(rt.ok(), rt.status().to_string());
    JudgeOptions o = rt->transport;
    o.backoff_base_ms = 5;
    o.backoff_max_ms = 10;
    return o;
}

JudgeResult judge_once(const JudgeOptions& spec) {
    auto client = make_judge_client(spec);
    REQUIRE_MESSAGE(client.ok(), client.status().to_string());
    auto f = (*client)->submit_future(JudgeRequest{"You are a judge.", "Rate: 42", "t1"});
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
}

json last_body(const FakeProvider& fake) {
    const auto recs = fake.requests();
    REQUIRE_FALSE(recs.empty());
    return json::parse(recs.back().body);
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("reasoning: an OpenAI reasoning model gets max_completion_tokens and no temperature") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    const JudgeOptions spec = judge_for(
        fake, R"("provider": "openai", "model": "gpt-5-mini", "reasoning_effort": "low")");
    CHECK_FALSE(spec.temperature.has_value());
    CHECK(spec.max_tokens == 4096);  // room for reasoning tokens
    const JudgeResult r = judge_once(spec);
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    const json body = last_body(fake);
    CHECK(body["max_completion_tokens"] == 4096);
    CHECK_FALSE(body.contains("max_tokens"));
    CHECK_FALSE(body.contains("temperature"));
    CHECK(body["reasoning_effort"] == "low");
    // Reasoning tokens are reported apart and priced as output.
    CHECK(r.reasoning_tokens == testing::k_default_reasoning_tokens);
    CHECK(r.output_tokens > r.reasoning_tokens);
    CHECK(r.cost_usd == doctest::Approx((r.input_tokens * 1.0 + r.output_tokens * 8.0) / 1e6));
    // A non-reasoning model keeps temperature 0 and the 512 budget.
    const JudgeOptions plain = judge_for(fake, R"("provider": "openai", "model": "gpt-4o-mini")");
    CHECK(plain.temperature == 0.0);
    CHECK(plain.max_tokens == 512);
}

TEST_CASE("reasoning: max_tokens refused by a reasoning model pauses the judge, naming the fix") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    const JudgeOptions spec = judge_for(
        fake, R"("provider": "openai", "model": "o4-mini", "max_tokens_field": "max_tokens")");
    auto client = make_judge_client(spec);
    REQUIRE(client.ok());
    auto first = (*client)->submit_future(JudgeRequest{"s", "u", "t1"}).get();
    CHECK(first.error == JudgeError::unsupported_parameter);
    CHECK(first.attempts == 1);  // never retried
    CHECK(first.status.code() == StatusCode::invalid_argument);
    const std::string m = first.status.message();
    CHECK(contains(m, "judge 'j'"));
    CHECK(contains(m, "refuses parameter 'max_tokens'"));
    CHECK(contains(m, "Use 'max_completion_tokens' instead"));
    CHECK(contains(m, "max_tokens_field"));
    CHECK(to_string(first.error) == std::string("unsupported_parameter"));
    const auto st = (*client)->status();
    CHECK(st.state == JudgeClientStatus::State::paused);
    CHECK(contains(st.pause_reason, "max_tokens_field"));
    // Paused: the next request sends nothing.
    auto second = (*client)->submit_future(JudgeRequest{"s", "u", "t2"}).get();
    CHECK(second.error == JudgeError::paused);
    CHECK(fake.counters().requests == 1);
}

TEST_CASE("reasoning: temperature and reasoning_effort refusals name the parameter") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    JudgeResult r =
        judge_once(judge_for(fake, R"("provider": "openai", "model": "o3", "temperature": 0)"));
    CHECK(r.error == JudgeError::unsupported_parameter);
    CHECK(contains(r.status.message(), "refuses parameter 'temperature'"));
    CHECK(contains(r.status.message(), "temperature: default"));
    r = judge_once(
        judge_for(fake, R"("provider": "openai", "model": "o3", "reasoning_effort": "extreme")"));
    CHECK(r.error == JudgeError::unsupported_parameter);
    CHECK(contains(r.status.message(), "refuses parameter 'reasoning_effort'"));
    CHECK(contains(r.status.message(), "Supported values are"));
    // temperature: default leaves it out, which the model accepts.
    r = judge_once(
        judge_for(fake, R"("provider": "openai", "model": "o3", "temperature": "default")"));
    CHECK_MESSAGE(r.ok(), r.status.to_string());
}

TEST_CASE("reasoning: reasoning tokens that use up the budget are a truncated error, not a reply") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    // The setup the issue describes: a reasoning judge with 512 tokens.
    const JudgeOptions spec =
        judge_for(fake, R"("provider": "openai", "model": "gpt-5-mini", "max_tokens": 512)");
    const JudgeResult r = judge_once(spec);
    CHECK(r.error == JudgeError::truncated);
    CHECK(to_string(r.error) == std::string("judge_truncated"));
    CHECK(r.attempts == 1);  // never retried with the same budget
    CHECK(r.finish_reason == "length");
    CHECK(r.text.empty());
    const std::string m = r.status.message();
    CHECK(contains(m, "512 output tokens used of max_tokens 512"));
    CHECK(contains(m, "512 of them reasoning"));
    CHECK(contains(m, "raise the judge's max_tokens"));
    // The truncated attempt was billed: its usage and cost are reported.
    CHECK(r.output_tokens == 512);
    CHECK(r.reasoning_tokens == 512);
    CHECK(r.cost_usd > 0.0);
    auto client = make_judge_client(spec);
    REQUIRE(client.ok());
    (void)(*client)->submit_future(JudgeRequest{"s", "u", "t"}).get();
    const auto st = (*client)->status();
    CHECK(st.output_tokens == 512);
    CHECK(st.reasoning_tokens == 512);
    CHECK(st.cost_usd > 0.0);
    CHECK(st.state == JudgeClientStatus::State::active);  // not a provider fault
}

TEST_CASE("reasoning: max_tokens_on_truncation retries once with the larger budget") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    const JudgeOptions spec =
        judge_for(fake, R"("provider": "openai", "model": "gpt-5-mini", "max_tokens": 512,
                           "max_tokens_on_truncation": 2048)");
    const JudgeResult r = judge_once(spec);
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.attempts == 2);
    const auto recs = fake.requests();
    REQUIRE(recs.size() == 2);
    CHECK(json::parse(recs[0].body)["max_completion_tokens"] == 512);
    CHECK(json::parse(recs[1].body)["max_completion_tokens"] == 2048);
    // Both attempts are billed: 512 wasted + 640 reasoning + the reply.
    CHECK(r.output_tokens > 512 + testing::k_default_reasoning_tokens);
    CHECK(r.reasoning_tokens == 512 + testing::k_default_reasoning_tokens);
    // Still cut at the larger budget: the error, after two attempts, no third.
    fake.set_default(Behaviour{});
    Behaviour heavy;
    heavy.reasoning_tokens = 5000;
    fake.set_default(heavy);
    const JudgeResult again = judge_once(spec);
    CHECK(again.error == JudgeError::truncated);
    CHECK(again.attempts == 2);
    CHECK(contains(again.status.message(), "of max_tokens 2048"));
    // Validation: the ceiling must be above the budget.
    JudgeOptions bad = spec;
    bad.max_tokens_on_truncation = 100;
    CHECK(contains(validate_judge_options(bad).message(), "max_tokens_on_truncation"));
}

TEST_CASE("reasoning: a truncated reply from a plain model with finish_reason length") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    Behaviour cut = Behaviour::reply_text("{\"reasoning\": \"the answer is");
    cut.finish_reason = "length";
    fake.enqueue(cut);
    const JudgeResult r =
        judge_once(judge_for(fake, R"("provider": "openai", "model": "gpt-4o-mini")"));
    CHECK(r.error == JudgeError::truncated);
    CHECK(contains(r.status.message(), "the reply text is cut"));
    // With truncation_is_error off (subject outputs), the same reply is a success.
    fake.enqueue(cut);
    JudgeOptions subject = judge_for(fake, R"("provider": "openai", "model": "gpt-4o-mini")");
    subject.truncation_is_error = false;
    const JudgeResult s = judge_once(subject);
    CHECK(s.ok());
    CHECK(s.finish_reason == "length");
}

TEST_CASE("responses api: request shape, reply text, reasoning tokens, incomplete status") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    const JudgeOptions spec = judge_for(
        fake,
        R"("provider": "openai", "api": "responses", "model": "gpt-5", "reasoning_effort": "medium")");
    JudgeResult r = judge_once(spec);
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(contains(r.text, "\"score\""));
    CHECK(r.reasoning_tokens == testing::k_default_reasoning_tokens);
    CHECK(r.finish_reason == "completed");
    auto recs = fake.requests();
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].path == "/v1/responses");
    const json body = json::parse(recs[0].body);
    CHECK(body["max_output_tokens"] == 4096);
    CHECK(body["reasoning"]["effort"] == "medium");
    CHECK(body["instructions"] == "You are a judge.");
    CHECK(body["input"][0]["content"] == "Rate: 42");
    CHECK(body["text"]["format"]["type"] == "json_object");
    CHECK_FALSE(body.contains("temperature"));
    CHECK_FALSE(body.contains("max_tokens"));
    CHECK(fake.counters().responses == 1);
    // status incomplete (max_output_tokens) is a truncated verdict.
    Behaviour heavy;
    heavy.reasoning_tokens = 9000;
    fake.enqueue(heavy);
    r = judge_once(spec);
    CHECK(r.error == JudgeError::truncated);
    CHECK(r.finish_reason == "max_output_tokens");
    CHECK(contains(r.status.message(), "of max_output_tokens 4096"));
    // The wire parser on its own: reasoning items are skipped.
    auto parsed = parse_judge_reply(JudgeApi::responses, R"({"status":"completed","output":[
        {"type":"reasoning","summary":[]},
        {"type":"message","content":[{"type":"output_text","text":"{\"score\":3}"}]}],
        "usage":{"input_tokens":10,"output_tokens":30,"output_tokens_details":{"reasoning_tokens":20},
                 "input_tokens_details":{"cached_tokens":4}}})");
    REQUIRE(parsed.ok());
    CHECK(parsed->text == "{\"score\":3}");
    CHECK(parsed->reasoning_tokens == 20);
    CHECK(parsed->cached_input_tokens == 4);
    CHECK_FALSE(parse_judge_reply(JudgeApi::responses, R"({"status":"failed","output":[]})").ok());
}

TEST_CASE("anthropic thinking: budget sent, temperature left out, thinking blocks skipped") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    const JudgeOptions spec =
        judge_for(fake, R"("provider": "anthropic", "model": "claude-sonnet-4-5",
                           "thinking_budget_tokens": 2048)");
    CHECK_FALSE(spec.temperature.has_value());
    CHECK(spec.max_tokens == 4096);
    JudgeResult r = judge_once(spec);
    REQUIRE_MESSAGE(r.ok(), r.status.to_string());
    CHECK(r.text.rfind("{\"reasoning\"", 0) == 0);  // the text block only
    CHECK(r.output_tokens > testing::k_default_reasoning_tokens);
    const json body = last_body(fake);
    CHECK(body["thinking"]["type"] == "enabled");
    CHECK(body["thinking"]["budget_tokens"] == 2048);
    CHECK_FALSE(body.contains("temperature"));
    // Thinking that uses up max_tokens: stop_reason max_tokens, no text block.
    Behaviour heavy;
    heavy.reasoning_tokens = 4096;
    fake.enqueue(heavy);
    r = judge_once(spec);
    CHECK(r.error == JudgeError::truncated);
    CHECK(r.finish_reason == "max_tokens");
    CHECK(contains(r.status.message(), "thinking_budget_tokens"));
    // Without thinking, temperature 0 is sent as before.
    const JudgeOptions plain =
        judge_for(fake, R"("provider": "anthropic", "model": "claude-haiku-4-5")");
    REQUIRE(judge_once(plain).ok());
    CHECK(last_body(fake)["temperature"] == 0.0);
    CHECK_FALSE(last_body(fake).contains("thinking"));
    // The config check: the budget is part of max_tokens.
    auto bad = judge_runtime_from_json(
        R"({"name": "j", "provider": "anthropic", "model": "c", "thinking_budget_tokens": 2048,
            "max_tokens": 1024})");
    REQUIRE_FALSE(bad.ok());
    CHECK(contains(bad.status().message(), "thinking_budget_tokens"));
}

TEST_CASE("reasoning: config keys and checks") {
    auto bad_api = judge_runtime_from_json(
        R"({"name": "j", "provider": "anthropic", "model": "c", "api": "responses"})");
    REQUIRE_FALSE(bad_api.ok());
    CHECK(contains(bad_api.status().message(), "key 'api'"));
    auto bad_field = judge_runtime_from_json(
        R"({"name": "j", "provider": "openai", "model": "m", "max_tokens_field": "n_predict"})");
    REQUIRE_FALSE(bad_field.ok());
    CHECK(contains(bad_field.status().message(), "max_tokens_field"));
    auto bad_temp = judge_runtime_from_json(
        R"({"name": "j", "provider": "openai", "model": "m", "temperature": "warm"})");
    REQUIRE_FALSE(bad_temp.ok());
    CHECK(contains(bad_temp.status().message(), "temperature"));
    CHECK(is_openai_reasoning_model("o1"));
    CHECK(is_openai_reasoning_model("o4-mini-2025-04-16"));
    CHECK(is_openai_reasoning_model("gpt-5.1"));
    CHECK_FALSE(is_openai_reasoning_model("gpt-5-chat-latest"));
    CHECK_FALSE(is_openai_reasoning_model("gpt-4o-mini"));
    CHECK_FALSE(is_openai_reasoning_model("o1x"));
    // The cache key of a config without the new keys is unchanged by them.
    JudgeOptions a;
    a.model = "m";
    JudgeOptions b = a;
    b.max_tokens_field = "max_tokens";
    CHECK(request_key_material("t", a) == request_key_material("t", b));
    b.reasoning_effort = "low";
    CHECK(request_key_material("t", a) != request_key_material("t", b));
}
