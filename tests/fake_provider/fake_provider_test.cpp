// Tests of the fake LLM provider, over real HTTP with httplib::Client.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "fake_provider.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using assay::testing::Behaviour;
using assay::testing::FakeProvider;
using assay::testing::FakeProviderOptions;
using assay::testing::MalformedKind;
using nlohmann::json;

namespace {

constexpr const char* k_key = "sk-test-123";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Polls `condition` every 5 ms for up to 10 s.
template <typename F>
bool eventually(F condition) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!condition()) {
        if (Clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

std::string openai_body(const std::string& question, const std::string& model = "gpt-4o-mini") {
    return json{
        {"model", model},
        {"temperature", 0},
        {"max_tokens", 200},
        {"response_format", {{"type", "json_object"}}},
        {"messages", json::array({{{"role", "system"}, {"content", "You are a strict grader."}},
                                  {{"role", "user"}, {"content", question}}})}}
        .dump();
}

std::string anthropic_body(const std::string& question,
                           const std::string& model = "claude-3-5-haiku-latest") {
    return json{{"model", model},
                {"max_tokens", 200},
                {"system", "You are a strict grader."},
                {"messages", json::array({{{"role", "user"}, {"content", question}}})}}
        .dump();
}

httplib::Result post_openai(httplib::Client& cli, const std::string& body,
                            const std::string& key = k_key) {
    httplib::Headers headers;
    if (!key.empty()) {
        headers.emplace("Authorization", "Bearer " + key);
    }
    return cli.Post("/v1/chat/completions", headers, body, "application/json");
}

httplib::Result post_anthropic(httplib::Client& cli, const std::string& body) {
    httplib::Headers headers{{"x-api-key", k_key}, {"anthropic-version", "2023-06-01"}};
    return cli.Post("/v1/messages", headers, body, "application/json");
}

// The judge reply inside an OpenAI answer.
json openai_content(const httplib::Result& res) {
    auto j = json::parse(res->body);
    return json::parse(j["choices"][0]["message"]["content"].get<std::string>());
}

struct Running {
    explicit Running(FakeProviderOptions options = {})
        : provider(std::move(options)), port(provider.start()), client("127.0.0.1", port) {
        REQUIRE(port > 0);
        client.set_read_timeout(10, 0);
    }
    FakeProvider provider;
    int port;
    httplib::Client client;
};

}  // namespace

TEST_CASE("OpenAI chat completion: reply shape and default judge content") {
    Running r;
    auto res = post_openai(r.client, openai_body("Is Paris the capital of France?"));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/json");
    auto j = json::parse(res->body);
    CHECK(j["object"] == "chat.completion");
    CHECK(j["model"] == "gpt-4o-mini");
    CHECK(j["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
    CHECK(j["created"].is_number_integer());
    REQUIRE(j["choices"].size() == 1);
    CHECK(j["choices"][0]["index"] == 0);
    CHECK(j["choices"][0]["message"]["role"] == "assistant");
    CHECK(j["choices"][0]["finish_reason"] == "stop");
    auto usage = j["usage"];
    CHECK(usage["prompt_tokens"].get<int>() > 0);
    CHECK(usage["completion_tokens"].get<int>() > 0);
    CHECK(usage["total_tokens"].get<int>() ==
          usage["prompt_tokens"].get<int>() + usage["completion_tokens"].get<int>());
    auto content = openai_content(res);
    CHECK(content["reasoning"].is_string());
    int score = content["score"].get<int>();
    CHECK(score >= 1);
    CHECK(score <= 5);
    // "reasoning" comes first in the text, as rubrics ask.
    auto text = j["choices"][0]["message"]["content"].get<std::string>();
    CHECK(text.find("\"reasoning\"") < text.find("\"score\""));
}

TEST_CASE("Anthropic messages: reply shape") {
    Running r;
    auto res = post_anthropic(r.client, anthropic_body("Grade this answer."));
    REQUIRE(res);
    CHECK(res->status == 200);
    auto j = json::parse(res->body);
    CHECK(j["type"] == "message");
    CHECK(j["role"] == "assistant");
    CHECK(j["model"] == "claude-3-5-haiku-latest");
    CHECK(j["id"].get<std::string>().rfind("msg_", 0) == 0);
    CHECK(j["stop_reason"] == "end_turn");
    REQUIRE(j["content"].size() == 1);
    CHECK(j["content"][0]["type"] == "text");
    auto content = json::parse(j["content"][0]["text"].get<std::string>());
    CHECK(content["score"].is_number_integer());
    CHECK(j["usage"]["input_tokens"].get<int>() > 0);
    CHECK(j["usage"]["output_tokens"].get<int>() > 0);

    SUBCASE("missing anthropic-version is a 400 in Anthropic's error shape") {
        auto bad = r.client.Post("/v1/messages", httplib::Headers{{"x-api-key", k_key}},
                                 anthropic_body("x"), "application/json");
        REQUIRE(bad);
        CHECK(bad->status == 400);
        auto e = json::parse(bad->body);
        CHECK(e["type"] == "error");
        CHECK(e["error"]["type"] == "invalid_request_error");
        CHECK(e["error"]["message"].get<std::string>().find("anthropic-version") !=
              std::string::npos);
    }
    SUBCASE("max_tokens is required") {
        auto body = json::parse(anthropic_body("x"));
        body.erase("max_tokens");
        auto bad = post_anthropic(r.client, body.dump());
        REQUIRE(bad);
        CHECK(bad->status == 400);
    }
}

TEST_CASE("identical requests get identical scores; the score follows the body hash") {
    Running r;
    std::set<int> seen;
    for (int i = 0; i < 40; ++i) {
        auto body = openai_body("question " + std::to_string(i));
        auto a = post_openai(r.client, body);
        auto b = post_openai(r.client, body);
        REQUIRE(a);
        REQUIRE(b);
        auto ca = openai_content(a);
        CHECK(ca == openai_content(b));
        CHECK(ca["score"].get<int>() == assay::testing::derived_score(body, 1, 5));
        seen.insert(ca["score"].get<int>());
    }
    CHECK(seen.size() >= 4);  // 40 bodies spread over the 1..5 scale

    // Known vectors, so Python harnesses can reproduce the formula.
    CHECK(assay::testing::fnv1a64("") == 0xcbf29ce484222325ULL);
    CHECK(assay::testing::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);

    SUBCASE("a fixed score from the script") {
        r.provider.set_default(Behaviour::reply_score(3));
        for (int i = 0; i < 5; ++i) {
            auto res = post_openai(r.client, openai_body("q" + std::to_string(i)));
            REQUIRE(res);
            CHECK(openai_content(res)["score"] == 3);
        }
    }
    SUBCASE("another scale") {
        r.provider.set_score_scale(0, 10);
        std::set<int> wide;
        for (int i = 0; i < 40; ++i) {
            auto res = post_openai(r.client, openai_body("q" + std::to_string(i)));
            REQUIRE(res);
            int s = openai_content(res)["score"].get<int>();
            CHECK(s >= 0);
            CHECK(s <= 10);
            wide.insert(s);
        }
        CHECK(wide.size() >= 6);
    }
}

TEST_CASE("judge-noise simulation: quality marker and seeded Gaussian noise") {
    Running r;
    std::string error;
    SUBCASE("a marker without noise gives the rounded, clamped marked quality") {
        REQUIRE(
            r.provider.apply_script(json{{"default", {{"quality_marker", "quality="}}}}, error));
        for (const auto& [text, want] :
             std::vector<std::pair<std::string, int>>{{"answer quality=3.4 ok", 3},
                                                      {"quality=4.6", 5},
                                                      {"quality=9", 5},
                                                      {"quality=-2", 1}}) {
            auto res = post_openai(r.client, openai_body(text));
            REQUIRE(res);
            CHECK(openai_content(res)["score"] == want);
        }
        // No marker in the body: the derived score, as before.
        auto body = openai_body("no marker here");
        auto res = post_openai(r.client, body);
        REQUIRE(res);
        CHECK(openai_content(res)["score"] == assay::testing::derived_score(body, 1, 5));
    }
    SUBCASE("noise around the marked quality: right spread, reproducible from the seed") {
        auto draw = [&](std::uint64_t seed) {
            std::string e;
            REQUIRE(r.provider.apply_script(
                json{{"default", {{"quality_marker", "quality="}, {"score_noise_sd", 0.8}}},
                     {"noise_seed", seed}},
                e));
            std::vector<int> scores;
            for (int i = 0; i < 400; ++i) {
                auto res = post_openai(r.client, openai_body("same output quality=3.0"));
                REQUIRE(res);
                scores.push_back(openai_content(res)["score"].get<int>());
            }
            return scores;
        };
        const auto a = draw(7);
        CHECK(a == draw(7));  // sequential requests: the same seed gives the same draws
        CHECK(a != draw(8));
        double mean = 0.0;
        std::set<int> distinct(a.begin(), a.end());
        int at3 = 0;
        for (int s : a) {
            mean += s;
            at3 += s == 3 ? 1 : 0;
        }
        mean /= static_cast<double>(a.size());
        CHECK(mean > 2.8);  // sd 0.8 around 3: mean 3 +- 0.04 (s.e.), symmetric clamping
        CHECK(mean < 3.2);
        CHECK(distinct.size() >= 4);
        // P(|N(0, 0.8)| < 0.5) = 0.47: about 188 of 400 land on 3.
        CHECK(at3 > 140);
        CHECK(at3 < 240);
    }
    SUBCASE("bad keys are refused with their name") {
        CHECK_FALSE(r.provider.apply_script(json{{"default", {{"score_noise_sd", -1}}}}, error));
        CHECK(error.find("score_noise_sd") != std::string::npos);
        CHECK_FALSE(r.provider.apply_script(json{{"noise_seed", "x"}}, error));
        CHECK(error.find("noise_seed") != std::string::npos);
    }
}

TEST_CASE("429 with Retry-After, then success") {
    Running r;
    r.provider.enqueue(Behaviour::rate_limited(2), 2);
    CHECK(r.provider.queued() == 2);
    for (int i = 0; i < 2; ++i) {
        auto res = post_openai(r.client, openai_body("q"));
        REQUIRE(res);
        CHECK(res->status == 429);
        CHECK(res->get_header_value("Retry-After") == "2");
        auto e = json::parse(res->body);
        CHECK(e["error"]["code"] == "rate_limit_exceeded");
        CHECK(e["error"]["message"].is_string());
        CHECK(e["error"]["type"].is_string());
    }
    auto ok = post_openai(r.client, openai_body("q"));
    REQUIRE(ok);
    CHECK(ok->status == 200);
    auto c = r.provider.counters();
    CHECK(c.requests == 3);
    CHECK(c.errors == 2);
    CHECK(c.replies == 1);
    CHECK(r.provider.queued() == 0);

    SUBCASE("Anthropic's rate limit shape") {
        r.provider.enqueue(Behaviour::rate_limited(7));
        auto res = post_anthropic(r.client, anthropic_body("q"));
        REQUIRE(res);
        CHECK(res->status == 429);
        CHECK(res->get_header_value("retry-after") == "7");
        auto e = json::parse(res->body);
        CHECK(e["type"] == "error");
        CHECK(e["error"]["type"] == "rate_limit_error");
    }
}

TEST_CASE("provider errors: 500, 503, 400, 401, 402, 403 and billing-style 429") {
    Running r;
    r.provider.enqueue(Behaviour::error(500));
    r.provider.enqueue(Behaviour::error(503, 1));
    r.provider.enqueue(Behaviour::insufficient_quota(429));
    r.provider.enqueue(Behaviour::insufficient_quota(402));
    r.provider.enqueue(Behaviour::error(400));
    r.provider.enqueue(Behaviour::error(401));
    r.provider.enqueue(Behaviour::error(403));

    auto res = post_openai(r.client, openai_body("q"));
    REQUIRE(res);
    CHECK(res->status == 500);
    CHECK(json::parse(res->body)["error"]["type"] == "server_error");

    res = post_openai(r.client, openai_body("q"));
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(res->get_header_value("Retry-After") == "1");

    res = post_openai(r.client, openai_body("q"));
    REQUIRE(res);
    CHECK(res->status == 429);
    CHECK(json::parse(res->body)["error"]["code"] == "insufficient_quota");
    CHECK(json::parse(res->body)["error"]["type"] == "insufficient_quota");
    CHECK_FALSE(res->has_header("Retry-After"));

    res = post_anthropic(r.client, anthropic_body("q"));
    REQUIRE(res);
    CHECK(res->status == 402);
    CHECK(json::parse(res->body)["error"]["type"] == "billing_error");

    for (int status : {400, 401, 403}) {
        res = post_anthropic(r.client, anthropic_body("q"));
        REQUIRE(res);
        CHECK(res->status == status);
        auto e = json::parse(res->body);
        CHECK(e["type"] == "error");
        CHECK(e["error"]["message"].is_string());
    }
    CHECK(r.provider.counters().errors == 7);
}

TEST_CASE("malformed replies") {
    Running r;
    SUBCASE("not JSON at all") {
        r.provider.enqueue(Behaviour::malformed_reply(MalformedKind::not_json));
        auto res = post_openai(r.client, openai_body("q"));
        REQUIRE(res);
        CHECK(res->status == 200);
        CHECK_FALSE(json::accept(res->body));
    }
    SUBCASE("truncated JSON with a consistent Content-Length") {
        r.provider.enqueue(Behaviour::malformed_reply(MalformedKind::truncated_json));
        auto res = post_anthropic(r.client, anthropic_body("q"));
        REQUIRE(res);
        CHECK(res->status == 200);
        CHECK_FALSE(json::accept(res->body));
        CHECK(res->body.rfind("{\"content\"", 0) == 0);
    }
    SUBCASE("connection cut half-way through the body") {
        r.provider.enqueue(Behaviour::malformed_reply(MalformedKind::cut_connection));
        auto res = post_openai(r.client, openai_body("q"));
        CHECK_FALSE(res);
    }
    CHECK(r.provider.counters().malformed == 1);
    // The next request is well-formed again.
    auto ok = post_openai(r.client, openai_body("q"));
    REQUIRE(ok);
    CHECK(json::accept(ok->body));
}

TEST_CASE("out-of-range score, verbatim content, custom usage, finish_reason") {
    Running r;
    r.provider.enqueue(Behaviour::reply_out_of_range());
    r.provider.enqueue(Behaviour::reply_text("I cannot grade this.").with_usage(1000, 7));
    Behaviour length = Behaviour::reply_text("{\"reasoning\": \"cut");
    length.finish_reason = "length";
    r.provider.enqueue(length, 2);

    auto res = post_openai(r.client, openai_body("q"));
    REQUIRE(res);
    CHECK(openai_content(res)["score"] == 9);

    res = post_openai(r.client, openai_body("q"));
    REQUIRE(res);
    auto j = json::parse(res->body);
    CHECK(j["choices"][0]["message"]["content"] == "I cannot grade this.");
    CHECK(j["usage"]["prompt_tokens"] == 1000);
    CHECK(j["usage"]["completion_tokens"] == 7);
    CHECK(j["usage"]["total_tokens"] == 1007);

    res = post_openai(r.client, openai_body("q"));
    REQUIRE(res);
    CHECK(json::parse(res->body)["choices"][0]["finish_reason"] == "length");
    res = post_anthropic(r.client, anthropic_body("q"));
    REQUIRE(res);
    CHECK(json::parse(res->body)["stop_reason"] == "max_tokens");
}

TEST_CASE("echo: the reply is the last user message, on both wire formats") {
    Running r;
    json script = {{"default", {{"echo", true}}}};
    std::string error;
    REQUIRE(r.provider.apply_script(script, error));
    auto res = post_openai(r.client, openai_body("Say: 5 GiB"));
    REQUIRE(res);
    CHECK(json::parse(res->body)["choices"][0]["message"]["content"] == "Say: 5 GiB");
    res = post_anthropic(r.client, anthropic_body("Another prompt"));
    REQUIRE(res);
    CHECK(json::parse(res->body)["content"][0]["text"] == "Another prompt");
    CHECK_FALSE(
        r.provider.apply_script(json{{"default", {{"echo", true}, {"content", "x"}}}}, error));
    CHECK(error.find("echo") != std::string::npos);
}

TEST_CASE("hang: the client gives up, stop() is not blocked") {
    auto provider = std::make_unique<FakeProvider>();
    const int port = provider->start();
    REQUIRE(port > 0);
    provider->enqueue(Behaviour::hang_forever());

    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(0, 300 * 1000);
    auto t0 = Clock::now();
    auto res = post_openai(cli, openai_body("q"));
    CHECK_FALSE(res);
    CHECK(res.error() == httplib::Error::Read);
    CHECK(seconds_since(t0) < 2.0);
    // On a loaded machine the client may give up before the server has even
    // read the request: wait for it to arrive.
    REQUIRE(eventually([&] { return provider->counters().hangs == 1; }));
    CHECK(provider->counters().in_flight == 1);  // still hanging on the server
    auto recorded = provider->requests();
    REQUIRE(recorded.size() == 1);
    CHECK(recorded[0].status == 0);

    // A second hung request whose client never gives up: stop() must still
    // return promptly and the client sees the connection end.
    provider->enqueue(Behaviour::hang_forever());
    std::atomic<bool> finished{false};
    std::thread patient([&] {
        httplib::Client slow("127.0.0.1", port);
        slow.set_read_timeout(30, 0);
        (void)post_openai(slow, openai_body("q"));
        finished = true;
    });
    REQUIRE(eventually([&] { return provider->counters().hangs == 2; }));
    t0 = Clock::now();
    provider->stop();
    CHECK(seconds_since(t0) < 2.0);
    patient.join();
    CHECK(finished);
    CHECK(provider->port() == 0);

    SUBCASE("release_hung() answers hung requests with 504") {
        const int again = provider->start();
        REQUIRE(again > 0);
        provider->enqueue(Behaviour::hang_forever());
        httplib::Client c2("127.0.0.1", again);
        c2.set_read_timeout(10, 0);
        std::thread releaser([&] {
            (void)eventually([&] { return provider->counters().hangs == 3; });
            provider->release_hung();
        });
        auto r2 = post_openai(c2, openai_body("q"));
        releaser.join();
        REQUIRE(r2);
        CHECK(r2->status == 504);
    }
    SUBCASE("hang_ms ends by itself") {
        const int again = provider->start();
        REQUIRE(again > 0);
        std::string error;
        REQUIRE(provider->apply_script(json{{"queue", {{{"hang_ms", 150}}}}}, error));
        httplib::Client c2("127.0.0.1", again);
        t0 = Clock::now();
        auto r2 = post_openai(c2, openai_body("q"));
        REQUIRE(r2);
        CHECK(r2->status == 504);
        CHECK(seconds_since(t0) >= 0.14);
    }
}

TEST_CASE("requests are recorded with headers, body and arrival time") {
    Running r;
    const auto before = std::chrono::system_clock::now();
    const auto body = openai_body("secret-free question");
    auto res = post_openai(r.client, body);
    REQUIRE(res);
    res = post_anthropic(r.client, anthropic_body("q"));
    REQUIRE(res);

    auto recorded = r.provider.requests();
    REQUIRE(recorded.size() == 2);
    const auto& first = recorded[0];
    CHECK(first.seq == 1);
    CHECK(first.method == "POST");
    CHECK(first.path == "/v1/chat/completions");
    CHECK(first.body == body);
    CHECK(first.header("authorization") == std::string("Bearer ") + k_key);
    CHECK(first.header("Content-Type") == "application/json");
    CHECK(first.header("REMOTE_ADDR").empty());  // httplib's pseudo-headers are not recorded
    CHECK(first.arrival >= before - std::chrono::seconds(1));
    CHECK(first.status == 200);
    CHECK(first.behaviour == "reply");
    // The key travels only in a header.
    CHECK(first.body.find(k_key) == std::string::npos);
    CHECK(first.path.find(k_key) == std::string::npos);
    CHECK(recorded[1].header("x-api-key") == k_key);
    CHECK(recorded[1].header("anthropic-version") == "2023-06-01");
    CHECK(recorded[1].seq == 2);

    auto c = r.provider.counters();
    CHECK(c.openai == 1);
    CHECK(c.anthropic == 1);
    CHECK(c.in_flight == 0);

    SUBCASE("and over HTTP") {
        auto got = r.client.Get("/_control/requests");
        REQUIRE(got);
        CHECK(got->status == 200);
        auto j = json::parse(got->body);
        REQUIRE(j["requests"].size() == 2);
        CHECK(j["requests"][0]["headers"]["Authorization"] == std::string("Bearer ") + k_key);
        CHECK(j["requests"][0]["body"] == body);
        CHECK(j["requests"][0]["status"] == 200);
        CHECK(j["requests"][0]["arrival_ms"].get<std::int64_t>() > 0);
        CHECK(j["counters"]["requests"] == 2);
    }
}

TEST_CASE("authentication, unknown models, bad bodies, unknown paths") {
    FakeProviderOptions options;
    options.known_models = {"gpt-4o-mini", "claude-3-5-haiku-latest"};
    Running r(options);
    r.provider.enqueue(Behaviour::error(500));

    SUBCASE("no key: 401 and the scripted fault is not consumed") {
        auto res = post_openai(r.client, openai_body("q"), "");
        REQUIRE(res);
        CHECK(res->status == 401);
        CHECK(json::parse(res->body)["error"]["code"] == "invalid_api_key");
        CHECK(r.provider.queued() == 1);
        auto anth = r.client.Post("/v1/messages", httplib::Headers{{"anthropic-version", "x"}},
                                  anthropic_body("q"), "application/json");
        REQUIRE(anth);
        CHECK(anth->status == 401);
        CHECK(json::parse(anth->body)["error"]["type"] == "authentication_error");
    }
    SUBCASE("unknown model: 404 model_not_found") {
        r.provider.clear_queue();
        auto res = post_openai(r.client, openai_body("q", "gpt-9-imaginary"));
        REQUIRE(res);
        CHECK(res->status == 404);
        auto e = json::parse(res->body);
        CHECK(e["error"]["code"] == "model_not_found");
        CHECK(e["error"]["message"].get<std::string>().find("gpt-9-imaginary") !=
              std::string::npos);
        auto anth = post_anthropic(r.client, anthropic_body("q", "claude-imaginary"));
        REQUIRE(anth);
        CHECK(anth->status == 404);
        CHECK(json::parse(anth->body)["error"]["type"] == "not_found_error");
        CHECK(r.provider.requests()[0].behaviour == "unknown_model");
    }
    SUBCASE("bad bodies: 400 naming the problem") {
        r.provider.clear_queue();
        auto res = post_openai(r.client, "{not json");
        REQUIRE(res);
        CHECK(res->status == 400);
        res = post_openai(r.client, json{{"model", "gpt-4o-mini"}}.dump());
        REQUIRE(res);
        CHECK(res->status == 400);
        CHECK(json::parse(res->body)["error"]["message"].get<std::string>().find("messages") !=
              std::string::npos);
    }
    SUBCASE("unknown paths: 404, recorded") {
        auto res = r.client.Post("/v1/completions", "{}", "application/json");
        REQUIRE(res);
        CHECK(res->status == 404);
        CHECK(json::parse(res->body)["error"]["code"] == "unknown_url");
        CHECK(r.provider.requests().at(0).behaviour == "unknown_path");
    }
    SUBCASE("a configured key must match") {
        FakeProviderOptions strict;
        strict.api_key = "sk-right";
        Running s(strict);
        auto wrong = post_openai(s.client, openai_body("q"), "sk-wrong");
        REQUIRE(wrong);
        CHECK(wrong->status == 401);
        auto right = post_openai(s.client, openai_body("q"), "sk-right");
        REQUIRE(right);
        CHECK(right->status == 200);
    }
}

TEST_CASE("scripting over HTTP: /_control/script, /_control/counters, /_control/reset") {
    Running r;
    auto script =
        json{{"default", {{"score", 4}}},
             {"queue", json::array({{{"status", 429}, {"retry_after_s", 1}, {"repeat", 2}},
                                    {{"malformed", "not_json"}},
                                    {{"content", "verbatim"},
                                     {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 6}}}},
                                    {{"status", 402}, {"quota", true}},
                                    {{"out_of_range", true}, {"latency_ms", 20}}})}};
    auto res = r.client.Post("/_control/script", script.dump(), "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(json::parse(res->body)["queued"] == 6);

    std::vector<int> statuses;
    for (int i = 0; i < 7; ++i) {
        auto a = post_openai(r.client, openai_body("q"));
        REQUIRE(a);
        statuses.push_back(a->status);
        if (i == 3) {
            CHECK(json::parse(a->body)["choices"][0]["message"]["content"] == "verbatim");
            CHECK(json::parse(a->body)["usage"]["total_tokens"] == 11);
        }
        if (i == 4) {
            CHECK(json::parse(a->body)["error"]["code"] == "insufficient_quota");
        }
        if (i == 5) {
            CHECK(openai_content(a)["score"] == 9);
        }
        if (i == 6) {
            CHECK(openai_content(a)["score"] == 4);  // the default
        }
    }
    CHECK(statuses == std::vector<int>{429, 429, 200, 200, 402, 200, 200});

    SUBCASE("append keeps the queue") {
        REQUIRE(r.client.Post("/_control/script", R"({"queue": [{"status": 500}]})",
                              "application/json"));
        REQUIRE(r.client.Post("/_control/script", R"({"append": [{"status": 503}]})",
                              "application/json"));
        CHECK(r.provider.queued() == 2);
    }
    SUBCASE("bad scripts are refused whole, naming the key") {
        auto bad = r.client.Post(
            "/_control/script",
            R"({"default": {"score": 2}, "queue": [{"status": 500}, {"colour": "red"}]})",
            "application/json");
        REQUIRE(bad);
        CHECK(bad->status == 400);
        CHECK(json::parse(bad->body)["error"] == "queue[1].colour: unknown key");
        CHECK(r.provider.queued() == 0);
        auto a = post_openai(r.client, openai_body("q"));
        REQUIRE(a);
        CHECK(openai_content(a)["score"] == 4);  // default unchanged

        bad = r.client.Post("/_control/script", R"({"queue": [{"hang": true, "status": 500}]})",
                            "application/json");
        REQUIRE(bad);
        CHECK(bad->status == 400);
        bad = r.client.Post("/_control/script", R"({"default": {"latency_ms": -1}})",
                            "application/json");
        REQUIRE(bad);
        CHECK(bad->status == 400);
        CHECK(json::parse(bad->body)["error"].get<std::string>().rfind("default.latency_ms", 0) ==
              0);
        bad = r.client.Post("/_control/script", "not json", "application/json");
        REQUIRE(bad);
        CHECK(bad->status == 400);
    }
    SUBCASE("models over HTTP") {
        REQUIRE(
            r.client.Post("/_control/script", R"({"models": ["only-this"]})", "application/json"));
        auto a = post_openai(r.client, openai_body("q", "gpt-4o-mini"));
        REQUIRE(a);
        CHECK(a->status == 404);
    }
    SUBCASE("counters and reset") {
        auto c = r.client.Get("/_control/counters");
        REQUIRE(c);
        auto j = json::parse(c->body);
        CHECK(j["requests"] == 7);
        CHECK(j["errors"] == 3);
        CHECK(j["malformed"] == 1);
        CHECK(j["queued"] == 0);

        REQUIRE(r.client.Post("/_control/script", R"({"queue": [{"status": 500}]})",
                              "application/json"));
        auto reset = r.client.Post("/_control/reset", "", "application/json");
        REQUIRE(reset);
        CHECK(reset->status == 200);
        CHECK(r.provider.requests().empty());
        CHECK(r.provider.counters().requests == 0);
        CHECK(r.provider.queued() == 0);
        auto a = post_openai(r.client, openai_body("q"));
        REQUIRE(a);
        CHECK(a->status == 200);
        // Back to the construction-time default: a derived score.
        CHECK(openai_content(a)["score"] == assay::testing::derived_score(openai_body("q"), 1, 5));
        CHECK(r.provider.requests().at(0).seq == 1);
    }
    SUBCASE("unknown control endpoints are 404 and not recorded") {
        auto c = r.client.Get("/_control/nope");
        REQUIRE(c);
        CHECK(c->status == 404);
        CHECK(r.provider.requests().size() == 7);
    }
}

TEST_CASE("~200 concurrent requests with 100 ms latency run in parallel") {
    Running r;
    r.provider.set_default(Behaviour{}.with_latency(100));
    constexpr int k_requests = 200;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    threads.reserve(k_requests);
    const auto t0 = Clock::now();
    for (int i = 0; i < k_requests; ++i) {
        threads.emplace_back([&, i] {
            httplib::Client cli("127.0.0.1", r.port);
            cli.set_read_timeout(10, 0);
            auto res = (i % 2 == 0) ? post_openai(cli, openai_body("q" + std::to_string(i)))
                                    : post_anthropic(cli, anthropic_body("q" + std::to_string(i)));
            if (res && res->status == 200 && json::accept(res->body)) {
                ++ok;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const double elapsed = seconds_since(t0);
    MESSAGE("200 requests x 100 ms latency took " << elapsed << " s, max in flight "
                                                  << r.provider.counters().max_in_flight);
    CHECK(ok == k_requests);
    CHECK(elapsed < 5.0);  // serial would be 20 s
    auto c = r.provider.counters();
    CHECK(c.requests == k_requests);
    CHECK(c.replies == k_requests);
    CHECK(c.max_in_flight >= 32);
    CHECK(c.in_flight == 0);
    CHECK(r.provider.requests().size() == k_requests);
}

TEST_CASE("parse_behaviour") {
    std::string error;
    auto b = assay::testing::parse_behaviour(json{{"status", 429}, {"retry_after_s", 3}}, error);
    REQUIRE(b);
    CHECK(b->kind == Behaviour::Kind::error);
    CHECK(b->retry_after_s == 3);
    b = assay::testing::parse_behaviour(json{{"status", 200}, {"score", 2}}, error);
    REQUIRE(b);
    CHECK(b->kind == Behaviour::Kind::reply);
    b = assay::testing::parse_behaviour(json{{"hang", true}}, error);
    REQUIRE(b);
    CHECK(b->kind == Behaviour::Kind::hang);
    b = assay::testing::parse_behaviour(json{{"malformed", "cut_connection"}}, error);
    REQUIRE(b);
    CHECK(b->malformed == MalformedKind::cut_connection);
    CHECK_FALSE(assay::testing::parse_behaviour(json{{"malformed", "weird"}}, error));
    CHECK(error.rfind("malformed:", 0) == 0);
    CHECK_FALSE(assay::testing::parse_behaviour(json{{"repeat", 2}}, error));
    CHECK(error == "repeat: unknown key");
    CHECK_FALSE(assay::testing::parse_behaviour(json{{"score", "high"}}, error));
    CHECK_FALSE(assay::testing::parse_behaviour(json{{"quota", true}}, error));
    CHECK_FALSE(assay::testing::parse_behaviour(json::array(), error));
}

TEST_CASE("start/stop lifecycle") {
    FakeProvider p;
    CHECK(p.port() == 0);
    const int a = p.start();
    REQUIRE(a > 0);
    CHECK(p.start() == a);  // already running
    CHECK(p.base_url() == "http://127.0.0.1:" + std::to_string(a));
    p.stop();
    p.stop();  // idempotent
    CHECK(p.port() == 0);
    const int b = p.start();
    REQUIRE(b > 0);
    httplib::Client cli("127.0.0.1", b);
    auto res = cli.Get("/_control/health");
    REQUIRE(res);
    CHECK(res->status == 200);

    SUBCASE("stop() does not wait for idle kept-alive connections") {
        cli.set_keep_alive(true);
        for (int i = 0; i < 2; ++i) {
            auto kept = post_openai(cli, openai_body("q"));
            REQUIRE(kept);
            CHECK(kept->status == 200);
        }
        const auto t0 = Clock::now();
        p.stop();
        CHECK(seconds_since(t0) < 1.0);
    }
    SUBCASE("a busy fixed port is an error") {
        FakeProviderOptions fixed;
        fixed.port = b;
        FakeProvider other(fixed);
        CHECK(other.start() == 0);
        CHECK(other.error().find(std::to_string(b)) != std::string::npos);
    }
}

TEST_CASE("reasoning models: OpenAI's parameter rules, reasoning tokens, the Responses shape") {
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    httplib::Client cli("127.0.0.1", fake.port());
    // max_tokens to a reasoning model: OpenAI's 400, with param and code.
    auto res = post_openai(cli, openai_body("q", "o4-mini"));
    REQUIRE(res);
    CHECK(res->status == 400);
    json err = json::parse(res->body)["error"];
    CHECK(err["code"] == "unsupported_parameter");
    CHECK(err["param"] == "max_tokens");
    CHECK(err["message"] ==
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
          "'max_completion_tokens' instead.");
    // temperature 0 is refused next; then a reasoning_effort it does not know.
    json body = json::parse(openai_body("q", "gpt-5-mini"));
    body.erase("max_tokens");
    body["max_completion_tokens"] = 200;
    res = post_openai(cli, body.dump());
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(json::parse(res->body)["error"]["param"] == "temperature");
    body.erase("temperature");
    body["reasoning_effort"] = "extreme";
    res = post_openai(cli, body.dump());
    REQUIRE(res);
    CHECK(json::parse(res->body)["error"]["code"] == "unsupported_value");
    // A valid request: 640 reasoning tokens use up the 200-token budget.
    body["reasoning_effort"] = "low";
    res = post_openai(cli, body.dump());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    json reply = json::parse(res->body);
    CHECK(reply["choices"][0]["finish_reason"] == "length");
    CHECK(reply["choices"][0]["message"]["content"] == "");
    CHECK(reply["usage"]["completion_tokens"] == 200);
    CHECK(reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 200);
    // A larger budget leaves room for the reply.
    body["max_completion_tokens"] = 4000;
    res = post_openai(cli, body.dump());
    REQUIRE(res);
    reply = json::parse(res->body);
    CHECK(reply["choices"][0]["finish_reason"] == "stop");
    CHECK(reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 640);
    CHECK(reply["usage"]["completion_tokens"].get<int>() > 640);
    // A non-reasoning model keeps accepting max_tokens and temperature 0.
    res = post_openai(cli, openai_body("q", "gpt-4o-mini"));
    REQUIRE(res);
    CHECK(res->status == 200);
    // The Responses API: reasoning item, then the message; incomplete when cut.
    json rb = {{"model", "gpt-5"},
               {"instructions", "grade"},
               {"input", "Rate: 42"},
               {"max_output_tokens", 100}};
    httplib::Headers auth{{"Authorization", std::string("Bearer ") + k_key}};
    res = cli.Post("/v1/responses", auth, rb.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    reply = json::parse(res->body);
    CHECK(reply["status"] == "incomplete");
    CHECK(reply["incomplete_details"]["reason"] == "max_output_tokens");
    CHECK(reply["output"].size() == 1);
    CHECK(reply["output"][0]["type"] == "reasoning");
    rb["max_output_tokens"] = 4000;
    res = cli.Post("/v1/responses", auth, rb.dump(), "application/json");
    REQUIRE(res);
    reply = json::parse(res->body);
    CHECK(reply["status"] == "completed");
    CHECK(reply["output"][1]["content"][0]["type"] == "output_text");
    CHECK(fake.counters().responses == 2);
    rb["max_tokens"] = 10;
    res = cli.Post("/v1/responses", auth, rb.dump(), "application/json");
    REQUIRE(res);
    CHECK(json::parse(res->body)["error"]["code"] == "unknown_parameter");
}

TEST_CASE("extended thinking: Anthropic's budget rules and thinking blocks") {
    FakeProvider fake;
    REQUIRE(fake.start() > 0);
    httplib::Client cli("127.0.0.1", fake.port());
    json body = json::parse(anthropic_body("q", "claude-sonnet-4-5"));
    body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 512}};
    auto res = post_anthropic(cli, body.dump());
    REQUIRE(res);
    CHECK(res->status == 400);  // budget below 1024
    body["thinking"]["budget_tokens"] = 2048;
    res = post_anthropic(cli, body.dump());
    REQUIRE(res);
    CHECK(res->status == 400);  // max_tokens (200) not above the budget
    CHECK(json::parse(res->body)["error"]["message"].get<std::string>().find(
              "`max_tokens` must be greater than `thinking.budget_tokens`") == 0);
    body["max_tokens"] = 4096;
    body["temperature"] = 0;
    res = post_anthropic(cli, body.dump());
    REQUIRE(res);
    CHECK(res->status == 400);  // temperature with thinking
    body.erase("temperature");
    res = post_anthropic(cli, body.dump());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    json reply = json::parse(res->body);
    REQUIRE(reply["content"].size() == 2);
    CHECK(reply["content"][0]["type"] == "thinking");
    CHECK(reply["content"][1]["type"] == "text");
    CHECK(reply["stop_reason"] == "end_turn");
    CHECK(reply["usage"]["output_tokens"].get<int>() > 640);
    Behaviour heavy;
    heavy.reasoning_tokens = 5000;
    fake.enqueue(heavy);
    res = post_anthropic(cli, body.dump());
    REQUIRE(res);
    reply = json::parse(res->body);
    CHECK(reply["stop_reason"] == "max_tokens");
    CHECK(reply["content"].size() == 1);
    CHECK(reply["usage"]["output_tokens"] == 4096);
}
