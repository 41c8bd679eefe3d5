// Generate mode (worker/gate/generate_side.h) against the in-process fake
// provider over real HTTP, with a real SQLite store: retries, the cache, the
// daily budget, and fail-closed errors. Also the `subject:` config block.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>

#include "config/config.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "core/time_format.h"
#include "fake_provider.h"
#include "gate/generate_side.h"
#include "judge/subject_options.h"
#include "temp_dir.h"

using namespace assay;
using namespace assay::gate;
using assay::testing::Behaviour;
using assay::testing::FakeProvider;
using nlohmann::json;

namespace {

constexpr const char* k_key_env = "ASSAY_TEST_SUBJECT_KEY";

struct KeyEnv {
    KeyEnv() { ::setenv(k_key_env, "sk-test-subject", 1); }
    ~KeyEnv() { ::unsetenv(k_key_env); }
};

struct Echo {
    Echo() {
        assay::testing::FakeProviderOptions o;
        o.default_behaviour.echo = true;
        fake = std::make_unique<FakeProvider>(o);
        REQUIRE(fake->start() > 0);
    }
    std::unique_ptr<FakeProvider> fake;
};

SubjectRuntime subject_for(const FakeProvider& fake, json extra = json::object()) {
    json j = {{"provider", "openai"},
              {"model", "gpt-4o-mini"},
              {"base_url", fake.base_url() + "/v1"},
              {"api_key_env", k_key_env},
              {"max_retries", 2},
              {"system", "You answer from the passages."}};
    j.update(extra);
    auto s = subject_runtime_from_json(j.dump());
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    s->rt.transport.backoff_base_ms = 5;
    s->rt.transport.backoff_max_ms = 20;
    return s.value();
}

Dataset dataset() {
    Dataset d;
    d.path = "cases.jsonl";
    for (int i = 1; i <= 3; ++i) {
        GateCase c;
        c.id = "qa-0" + std::to_string(i);
        c.line = i;
        c.input = "question " + std::to_string(i);
        c.reference = "answer " + std::to_string(i);
        c.metadata = {{"feature", "docs-qa"}};
        d.cases.push_back(c);
    }
    return d;
}

PromptTemplate prompt(const std::string& text = "Q: {{input}} A: {{reference}}") {
    auto t = parse_prompt_template(text, "v1.txt");
    REQUIRE(t.ok());
    return t.value();
}

std::unique_ptr<JudgeClient> client_for(const SubjectRuntime& s) {
    auto c = make_judge_client(s.rt.transport);
    REQUIRE_MESSAGE(c.ok(), c.status().to_string());
    return std::move(c).value();
}

}  // namespace

TEST_CASE("gate generate: one trace per case from the subject's replies; a 429 is retried") {
    KeyEnv key;
    Echo echo;
    echo.fake->enqueue(Behaviour::rate_limited(0));
    SubjectRuntime s = subject_for(*echo.fake);
    auto client = client_for(s);
    SubjectGenerator gen(s, *client, nullptr);
    std::vector<size_t> seen;
    auto g = gen.generate("candidate", prompt(), dataset(), [&](size_t done, size_t total) {
        CHECK(total == 3);
        seen.push_back(done);
    });
    REQUIRE_MESSAGE(g.ok(), g.status().to_string());
    REQUIRE(g->traces.size() == 3);
    CHECK(g->subject == "subject:gpt-4o-mini");
    CHECK(g->traces[1].trace_id == "qa-02");
    CHECK(g->traces[1].output == "Q: question 2 A: answer 2");
    CHECK(g->traces[1].input == "question 2");  // completed from the case
    CHECK(g->traces[1].metadata.model == "gpt-4o-mini");
    CHECK(g->traces[1].metadata.feature == "docs-qa");
    CHECK(g->traces[1].metadata.get("prompt_file") == "v1.txt");
    CHECK(g->traces[1].metadata.get("prompt_sha256") == prompt().sha256);
    CHECK(g->traces[1].usage.output_tokens.value_or(0) > 0);
    CHECK(g->traces[1].latency_ms.has_value());
    CHECK(g->stats.requests == 3);
    CHECK(g->stats.attempts == 4);  // the 429 and its retry
    CHECK(echo.fake->counters().requests == 4);
    CHECK(seen.back() == 3);
    // The system message went out with the prompt.
    auto reqs = echo.fake->requests();
    REQUIRE(!reqs.empty());
    CHECK(reqs.back().body.find("You answer from the passages.") != std::string::npos);
    REQUIRE(g->jsonl.size() == 3);
    CHECK(json::parse(g->jsonl[0])["trace_id"] == "qa-01");
}

TEST_CASE("gate generate: a re-run with the same store is answered from the cache, identically") {
    KeyEnv key;
    Echo echo;
    testing::TempDir dir;
    auto store = open_store(StoreOptions{dir.file("gate.db")});
    REQUIRE(store.ok());
    SubjectRuntime s = subject_for(*echo.fake);
    auto client = client_for(s);
    const int64_t day_ms = 1795305600000;  // 2026-11-22T00:00:00Z
    SubjectGenerator gen(s, *client, store->get(), [&] { return day_ms; });
    auto first = gen.generate("candidate", prompt(), dataset(), {});
    REQUIRE(first.ok());
    CHECK(echo.fake->counters().requests == 3);
    auto second = gen.generate("candidate", prompt(), dataset(), {});
    REQUIRE(second.ok());
    CHECK(echo.fake->counters().requests == 3);  // no new request
    CHECK(second->stats.cache_hits == 3);
    CHECK(second->stats.requests == 0);
    CHECK(second->jsonl == first->jsonl);  // same outputs, usage and latency
    auto spent = (*store)->judge_spend("subject:gpt-4o-mini", "2026-11-22");
    REQUIRE(spent.ok());
    CHECK(spent->calls == 3);
    CHECK(spent->cache_hits == 3);

    // Another prompt, system message or model is another request.
    auto other = gen.generate("baseline", prompt("{{input}}"), dataset(), {});
    REQUIRE(other.ok());
    CHECK(echo.fake->counters().requests == 6);
    CHECK(generation_cache_key(s.rt.transport, "a", "p") !=
          generation_cache_key(s.rt.transport, "b", "p"));
    JudgeOptions warm = s.rt.transport;
    warm.temperature = 0.7;
    CHECK(generation_cache_key(s.rt.transport, "a", "p") != generation_cache_key(warm, "a", "p"));
    // The key's layout is fixed (a change would orphan every stored entry):
    // the tag, then each field as "\n<length>:<bytes>".
    JudgeOptions fixed;
    fixed.model = "m";
    fixed.max_tokens = 5;
    fixed.json_response_format = false;
    CHECK(generation_cache_key(fixed, "sys", "pp") ==
          sha256_hex("assay-generate-cache-v1\n6:openai\n1:m\n1:0\n1:5\n4:text\n3:sys\n2:pp"));

    // cache: false never reads or writes the cache.
    SubjectRuntime nocache = subject_for(*echo.fake, {{"cache", false}});
    SubjectGenerator fresh(nocache, *client, store->get());
    REQUIRE(fresh.generate("candidate", prompt(), dataset(), {}).ok());
    CHECK(echo.fake->counters().requests == 9);
}

TEST_CASE(
    "gate generate: the provider's finish reason reaches the trace, also from the cache "
    "(Anthropic)") {
    KeyEnv key;
    Echo echo;
    Behaviour cut;
    cut.echo = true;
    cut.finish_reason = "length";  // Anthropic spelling: max_tokens
    echo.fake->set_default(cut);
    testing::TempDir dir;
    auto store = open_store(StoreOptions{dir.file("gate.db")});
    REQUIRE(store.ok());
    SubjectRuntime s =
        subject_for(*echo.fake, {{"provider", "anthropic"}, {"model", "claude-3-5-haiku-latest"}});
    auto client = client_for(s);
    SubjectGenerator gen(s, *client, store->get());
    auto first = gen.generate("candidate", prompt(), dataset(), {});
    REQUIRE_MESSAGE(first.ok(), first.status().to_string());
    CHECK(first->traces[0].finish_reason == "max_tokens");
    CHECK(first->traces[0].output == "Q: question 1 A: answer 1");
    auto second = gen.generate("candidate", prompt(), dataset(), {});
    REQUIRE(second.ok());
    CHECK(second->stats.cache_hits == 3);
    CHECK(second->traces[0].finish_reason == "max_tokens");
    CHECK(second->jsonl == first->jsonl);
}

TEST_CASE("gate generate: over the daily budget nothing is sent and the side fails") {
    KeyEnv key;
    Echo echo;
    testing::TempDir dir;
    auto store = open_store(StoreOptions{dir.file("gate.db")});
    REQUIRE(store.ok());
    // $1 per 1,000 output tokens and max_tokens 100: each call may cost $0.10.
    SubjectRuntime s = subject_for(
        *echo.fake, {{"max_tokens", 100},
                     {"daily_budget_usd", 0.25},
                     {"price", {{"input_per_mtok", 0.0}, {"output_per_mtok", 1000.0}}}});
    auto client = client_for(s);
    SubjectGenerator gen(s, *client, store->get());
    auto g = gen.generate("candidate", prompt(), dataset(), {});
    REQUIRE_FALSE(g.ok());
    CHECK(g.status().message().find("daily budget") != std::string::npos);
    CHECK(g.status().message().find("3 uncached requests") != std::string::npos);
    CHECK(echo.fake->counters().requests == 0);

    // Spend already stored today counts too.
    SubjectRuntime roomy = subject_for(*echo.fake, {{"max_tokens", 100},
                                                    {"daily_budget_usd", 0.35},
                                                    {"price", {{"output_per_mtok", 1000.0}}}});
    const std::string today = format_rfc3339_ms(now_ms()).substr(0, 10);
    REQUIRE(
        (*store)->record_llm_calls({}, {{"subject:gpt-4o-mini", today, 1, 0, 0, 0.10, 0}}).ok());
    SubjectGenerator gen2(roomy, *client, store->get());
    auto g2 = gen2.generate("candidate", prompt(), dataset(), {});
    REQUIRE_FALSE(g2.ok());
    CHECK(g2.status().message().find("$0.1000 spent") != std::string::npos);
    CHECK(echo.fake->counters().requests == 0);
}

TEST_CASE("gate generate: a missing variable or a failed request fails closed, naming the case") {
    KeyEnv key;
    Echo echo;
    SubjectRuntime s = subject_for(*echo.fake);
    auto client = client_for(s);
    SubjectGenerator gen(s, *client, nullptr);
    Dataset d = dataset();
    d.cases[1].reference = nullptr;
    auto missing = gen.generate("candidate", prompt(), d, {});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().message().find("case 'qa-02'") != std::string::npos);
    CHECK(missing.status().message().find("{{reference}}") != std::string::npos);
    CHECK(echo.fake->counters().requests == 0);

    // 500s until the retries are spent (3 attempts each; breaker off).
    echo.fake->set_default(Behaviour::error(500));
    s.rt.transport.breaker_failures = 0;
    auto strict_client = client_for(s);
    SubjectGenerator strict(s, *strict_client, nullptr);
    auto failed = strict.generate("baseline", prompt(), dataset(), {});
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.status().message().find("generation failed for 3 of 3 cases") !=
          std::string::npos);
    CHECK(failed.status().message().find("case 'qa-01'") != std::string::npos);
    CHECK(failed.status().message().find("500") != std::string::npos);
    CHECK(echo.fake->counters().requests == 9);
}

TEST_CASE("gate generate: the subject config block") {
    std::map<std::string, std::string> env;
    auto load = [&env](const std::string& subject) {
        return load_config_text("scorers:\n  - {name: length, type: length}\nsubject:\n" + subject,
                                "t.yaml", ".", {}, env);
    };
    auto ok = load(
        "  provider: anthropic\n  model: claude-3-5-haiku-latest\n  system: Be brief.\n"
        "  temperature: 0.2\n  daily_budget_usd: 5\n");
    REQUIRE_MESSAGE(ok.ok(), ok.status().to_string());
    REQUIRE(ok->subject);
    CHECK(ok->subject->name == "subject:claude-3-5-haiku-latest");
    auto rt = subject_runtime_from_json(ok->subject->config_json);
    REQUIRE(rt.ok());
    CHECK(rt->system == "Be brief.");
    CHECK(rt->rt.transport.json_response_format == false);
    CHECK(rt->rt.daily_budget_usd == 5.0);

    auto bad_type = load("  provider: openai\n  model: m\n  max_tokens: many\n");
    REQUIRE_FALSE(bad_type.ok());
    CHECK(bad_type.status().message().find("subject: key 'max_tokens'") != std::string::npos);
    auto unknown = load("  provider: openai\n  model: m\n  colour: red\n");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.status().message().find("unknown key 'colour'") != std::string::npos);
    auto named = load("  provider: openai\n  model: m\n  name: x\n");
    REQUIRE_FALSE(named.ok());
    CHECK(named.status().message().find("'name'") != std::string::npos);
    auto no_model = load("  provider: openai\n");
    REQUIRE_FALSE(no_model.ok());
    CHECK(no_model.status().message().find("'model'") != std::string::npos);
    auto key = load("  provider: openai\n  model: m\n  api_key_env: sk-abc\n");
    REQUIRE_FALSE(key.ok());
    CHECK(key.status().message().find("api_key_env") != std::string::npos);
    CHECK(key.status().message().find("sk-abc") == std::string::npos);
}
