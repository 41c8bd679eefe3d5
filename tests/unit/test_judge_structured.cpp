// Structured verdicts (issue 15 item 3) against the real fake provider,
// which checks structured-output requests the way the providers do (strict
// schema rules, no forced tool with thinking) and breaks free-text verdicts
// with its verdict faults: the rubric's schema in each wire format, defaults
// per provider, the forced Anthropic tool read as the reply, and faults
// that a strict schema rules out.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <nlohmann/json.hpp>
#include <string>

#include "fake_provider.h"
#include "judge/judge_options.h"
#include "judge/reply_parser.h"
#include "judge/rubric.h"
#include "judge/verdict_schema.h"
#include "llm/judge_client.h"
#include "llm/judge_wire.h"
#include "scoped_env.h"

using namespace assay;
using assay::testing::FakeProvider;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* k_key_env = "ASSAY_TEST_JUDGE_STRUCTURED_KEY";

struct KeyEnv : assay::testing::ScopedEnv {
    KeyEnv() : ScopedEnv(k_key_env, "sk-test-structured") {}
};

Rubric rubric(const std::string& scale) {
    auto r = parse_rubric(
        "name: demo\nprompt: |\n  Grade.\n  {{input}}\n  {{output}}\nscale: " + scale +
            "\npass_threshold: " + (scale.find("choices") != std::string::npos ? "1" : "4") + "\n",
        "demo.yaml");
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    return *r;
}

Result<JudgeRuntime> runtime(const std::string& base, const std::string& keys) {
    return judge_runtime_from_json(R"({"name": "j", "api_key_env": ")" + std::string(k_key_env) +
                                   R"(", "base_url": ")" + base +
                                   R"(/v1", "max_retries": 0, "timeout_ms": 5000, )" + keys + "}");
}

JudgeRequest request_for(const JudgeOptions& o, const Rubric& r) {
    JudgeRequest req{"You are a judge.", "Rate: 42", "t1"};
    attach_verdict_schema(req, o, r);
    return req;
}

JudgeResult ask(const JudgeOptions& o, const JudgeRequest& req) {
    auto client = make_judge_client(o);
    REQUIRE_MESSAGE(client.ok(), client.status().to_string());
    auto f = (*client)->submit_future(req);
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
}

}  // namespace

TEST_CASE("structured: the verdict schema follows the rubric's scale, in strict form") {
    const json numeric = json::parse(verdict_schema(rubric("{min: 1, max: 5}")));
    CHECK(numeric["additionalProperties"] == false);
    CHECK(numeric["required"] == json::array({"reasoning", "score"}));
    CHECK(numeric["properties"]["score"] ==
          json({{"type", "integer"}, {"minimum", 1}, {"maximum", 5}}));
    const std::string choices_text = verdict_schema(rubric("{choices: {good: 1, bad: 0}}"));
    const json choices = json::parse(choices_text);
    CHECK(choices["properties"]["choice"]["enum"] == json::array({"good", "bad"}));
    CHECK(choices["required"] == json::array({"reasoning", "choice"}));
    // Reasoning is written before the verdict (key order kept in the text).
    CHECK(choices_text.find("reasoning") < choices_text.find("\"choice\""));
}

TEST_CASE("structured: defaults per provider, and no forced tool with Anthropic thinking") {
    auto openai = runtime("http://127.0.0.1:1", R"("provider": "openai", "model": "m")");
    REQUIRE(openai.ok());
    CHECK(openai->transport.structured_output);
    auto plain = runtime("http://127.0.0.1:1",
                         R"("provider": "openai", "model": "m", "json_response_format": false)");
    REQUIRE(plain.ok());
    CHECK_FALSE(plain->transport.structured_output);
    auto claude = runtime("http://127.0.0.1:1", R"("provider": "anthropic", "model": "c")");
    REQUIRE(claude.ok());
    CHECK(claude->transport.structured_output);
    auto thinking =
        runtime("http://127.0.0.1:1",
                R"("provider": "anthropic", "model": "c", "thinking_budget_tokens": 2048)");
    REQUIRE(thinking.ok());
    CHECK_FALSE(thinking->transport.structured_output);
    auto both = runtime("http://127.0.0.1:1",
                        R"("provider": "anthropic", "model": "c", "thinking_budget_tokens": 2048, )"
                        R"("structured_output": true)");
    REQUIRE_FALSE(both.ok());
    CHECK(both.status().message().find("structured_output") != std::string::npos);
}

TEST_CASE("structured: each wire format sends the schema and the fake provider honours it") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    // Every generated verdict would be broken by a fault without the schema.
    std::string err;
    REQUIRE(fake.apply_script(
        json::parse(R"({"default": {"verdict_faults": "all", "verdict_fault_rate": 1}})"), err));
    const Rubric r = rubric("{min: 1, max: 5}");
    SUBCASE("chat completions: response_format json_schema, strict") {
        auto rt = runtime(fake.base_url(), R"("provider": "openai", "model": "gpt-4o-mini")");
        REQUIRE(rt.ok());
        const JudgeResult res = ask(rt->transport, request_for(rt->transport, r));
        REQUIRE_MESSAGE(res.ok(), res.status.to_string());
        const json body = json::parse(fake.requests().back().body);
        CHECK(body["response_format"]["type"] == "json_schema");
        CHECK(body["response_format"]["json_schema"]["strict"] == true);
        CHECK(body["response_format"]["json_schema"]["name"] == "verdict");
        CHECK(parse_reply(r, res.text).ok());
    }
    SUBCASE("responses: text.format json_schema") {
        auto rt = runtime(fake.base_url(),
                          R"("provider": "openai", "api": "responses", "model": "gpt-4o-mini")");
        REQUIRE(rt.ok());
        const JudgeResult res = ask(rt->transport, request_for(rt->transport, r));
        REQUIRE_MESSAGE(res.ok(), res.status.to_string());
        const json body = json::parse(fake.requests().back().body);
        CHECK(body["text"]["format"]["type"] == "json_schema");
        CHECK(body["text"]["format"]["schema"]["properties"].contains("score"));
        CHECK(parse_reply(r, res.text).ok());
    }
    SUBCASE("anthropic: a forced tool whose input is the verdict") {
        REQUIRE(fake.apply_script(json::parse(R"({"default": {"verdict_faults": ["prose",
            "cut_json", "trailing_text"], "verdict_fault_rate": 1}})"),
                                  err));
        auto rt = runtime(fake.base_url(), R"("provider": "anthropic", "model": "claude-x")");
        REQUIRE(rt.ok());
        const JudgeResult res = ask(rt->transport, request_for(rt->transport, r));
        REQUIRE_MESSAGE(res.ok(), res.status.to_string());
        const json body = json::parse(fake.requests().back().body);
        CHECK(body["tool_choice"] == json({{"type", "tool"}, {"name", "verdict"}}));
        CHECK(body["tools"][0]["input_schema"]["properties"].contains("score"));
        CHECK(res.finish_reason == "tool_use");
        auto v = parse_reply(r, res.text);
        CHECK_MESSAGE(v.ok(), res.text);
        CHECK(v->parsed_as == ReplyParse::strict);
    }
    SUBCASE("without the schema the same faults break the verdict") {
        auto rt = runtime(fake.base_url(), R"("provider": "openai", "model": "gpt-4o-mini", )"
                                           R"("structured_output": false)");
        REQUIRE(rt.ok());
        REQUIRE(fake.apply_script(
            json::parse(R"({"default": {"verdict_faults": ["prose"], "verdict_fault_rate": 1}})"),
            err));
        const JudgeResult res = ask(rt->transport, request_for(rt->transport, r));
        REQUIRE_MESSAGE(res.ok(), res.status.to_string());
        CHECK(json::parse(fake.requests().back().body)["response_format"]["type"] == "json_object");
        CHECK_FALSE(parse_reply(r, res.text).ok());
    }
}

TEST_CASE("structured: the fake provider refuses what the providers refuse") {
    KeyEnv env;
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    auto rt = runtime(fake.base_url(), R"("provider": "openai", "model": "gpt-4o-mini")");
    REQUIRE(rt.ok());
    JudgeRequest req{"sys", "Rate: 1", "t"};
    req.reply_schema_name = "verdict";
    req.reply_schema =
        R"({"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]})";
    JudgeResult res = ask(rt->transport, req);
    CHECK(res.error == JudgeError::bad_request);
    CHECK(res.status.message().find("additionalProperties") != std::string::npos);
    req.reply_schema =
        R"({"type": "object", "properties": {"score": {"type": "integer"}, "why": {"type": "string"}},)"
        R"( "required": ["score"], "additionalProperties": false})";
    res = ask(rt->transport, req);
    CHECK(res.error == JudgeError::bad_request);
    CHECK(res.status.message().find("Missing 'why'") != std::string::npos);
    // Anthropic: forced tool use with thinking (config refuses it; the fake as the API does).
    assay::testing::StructuredRequest sr;
    const json body = json::parse(
        R"({"model": "c", "max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 2048},)"
        R"( "tools": [{"name": "verdict", "input_schema": {"type": "object"}}],)"
        R"( "tool_choice": {"type": "tool", "name": "verdict"}, "messages": []})");
    auto refusal = assay::testing::read_structured_request(
        assay::testing::FakeApi::anthropic_messages, body, sr);
    REQUIRE(refusal.has_value());
    CHECK(refusal->message.find("Thinking may not be enabled") != std::string::npos);
}
