#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "config/config.h"
#include "temp_dir.h"

using namespace assay;

namespace {
Result<Config> load(const std::string& yaml, std::map<std::string, std::string> env = {},
                    ConfigOverrides flags = {}) {
    return load_config_text(yaml, "test.yaml", "/cfg", flags, env);
}
std::string err(const std::string& yaml) {
    auto r = load(yaml);
    return r.ok() ? "" : r.status().message();
}
}  // namespace

TEST_CASE("config: the documented example shape loads") {
    auto r = load(R"(
store: {sqlite: data/assay.db, judge_lease_ms: 60000}
sampler: {salt: s1}
ingest: {max_trace_bytes: 2048, max_depth: 32}
pipeline: {batch_size: 10, threads: 1}
scorers:
  - {name: a, type: test_len, max: 5, filter: {feature: [chat, search]}}
  - {name: b, type: test_len, sample_rate: 0.5, filter: ["environment == prod"], always_when: {error: true}}
)");
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->store.sqlite_path == "/cfg/data/assay.db");
    CHECK(r->store.judge_lease_ms == 60000);
    auto pg = load(
        "store: {postgres: 'postgresql://assay@db.internal:5432/assay?sslmode=require'}\n"
        "scorers: [{type: test_len}]");
    REQUIRE_MESSAGE(pg.ok(), pg.status().message());
    CHECK(pg->store.sqlite_path == "postgresql://assay@db.internal:5432/assay?sslmode=require");
    CHECK(r->salt == "s1");
    CHECK(r->ingest.max_trace_bytes == 2048);
    CHECK(r->ingest.max_depth == 32);
    CHECK(r->pipeline.batch_size == 10);
    REQUIRE(r->scorers.size() == 2);
    CHECK(r->scorers[0].version.rfind("3.", 0) == 0);
    CHECK(r->scorers[1].policy.rate == 0.5);
    CHECK(r->scorers[1].policy.salt == "s1");
    CHECK(r->scorers[1].policy.always.on_error);
}

TEST_CASE("config: errors name the key") {
    CHECK(err("stor: {}\nscorers: [{type: test_len}]") == "test.yaml: config: unknown key 'stor'");
    CHECK(err("scorers: [{type: test_len, maxx: 3}]") ==
          "test.yaml: scorers[0] (test_len): unknown key 'maxx'");
    CHECK(err("scorers: [{type: test_len, max: many}]") ==
          "test.yaml: scorers[0] (test_len): key 'max': expected an integer, got 'many'");
    CHECK(err("scorers: [{type: test_len, max: -1}]") ==
          "test.yaml: scorers[0] (test_len): key 'max': must be >= 0");
    CHECK(err("scorers: [{type: nope}]")
              .find("scorers[0] (nope): key 'type': unknown scorer type 'nope'") !=
          std::string::npos);
    CHECK(err("scorers: [{name: x}]")
              .rfind("test.yaml: scorers[0]: key 'type' is required (one of: ", 0) == 0);
    CHECK(err("scorers: [{name: x}]").find("test_len") != std::string::npos);
    CHECK(err("scorers: [{type: test_len, sample_rate: 2}]") ==
          "test.yaml: scorers[0] (test_len): key 'sample_rate': must be between 0 and 1");
    CHECK(err("scorers: [{type: test_judge, rubric: r.yaml}]") ==
          "test.yaml: scorers[0] (test_judge): key 'sample_rate': is required for test_judge "
          "scorers");
    CHECK(err("scorers: [{type: test_len}, {type: test_len}]") ==
          "test.yaml: scorers[1] (test_len): key 'name': 'test_len' is used twice");
    CHECK(err("scorers: [{type: test_len, filter: 'feature ~ chat'}]").find("no operator") !=
          std::string::npos);
    CHECK(
        err("scorers: [{type: test_len, always_when: {slow: true}}]").find("unknown key 'slow'") !=
        std::string::npos);
    CHECK(err("store: {sqlite: [a]}\nscorers: [{type: test_len}]") ==
          "test.yaml: store: key 'sqlite': expected a string, got a list");
    CHECK(
        err("store: {sqlite: a.db, postgres: 'postgresql://h/db'}\nscorers: [{type: test_len}]") ==
        "test.yaml: store: key 'postgres': set store.sqlite or store.postgres, not both");
    CHECK(err("store: {postgres: 'mysql://h/db'}\nscorers: [{type: test_len}]") ==
          "test.yaml: store: key 'postgres': expected a postgresql:// URI, got 'mysql://h/db'");
    CHECK(err("store: {postgres: 'postgresql://u:hunter2@h/db'}\nscorers: [{type: test_len}]") ==
          "test.yaml: store: key 'postgres': the URI 'postgresql://u:***@h/db' carries a "
          "password; set PGPASSWORD or use ~/.pgpass");
    CHECK(err("store: {judge_lease_ms: 0}\nscorers: [{type: test_len}]") ==
          "test.yaml: store: key 'judge_lease_ms': must be between 1 and 86400000");
    CHECK(err("ingest: {max_depth: 2}\nscorers: [{type: test_len}]") ==
          "test.yaml: ingest: key 'max_depth': must be between 4 and 10000");
    CHECK(err("scorers: []") == "test.yaml: key 'scorers': no scorers are configured");
    CHECK(err("scorers: [{type: test_len}\n").find("YAML error at line") != std::string::npos);
    CHECK(err("log: {level: loud}\nscorers: [{type: test_len}]").find("log.level") !=
          std::string::npos);
}

TEST_CASE("config: precedence is flag > environment > file > default") {
    const std::string yaml =
        "store: {sqlite: file.db}\nsampler: {salt: file}\nscorers: [{type: test_len}]";
    auto file_only = load(yaml);
    REQUIRE(file_only.ok());
    CHECK(file_only->store.sqlite_path == "/cfg/file.db");
    CHECK(file_only->pipeline.batch_size == 1000);  // default

    auto env = load(
        yaml, {{"ASSAY_DB", "env.db"}, {"ASSAY_SAMPLER_SALT", "env"}, {"ASSAY_BATCH_SIZE", "7"}});
    REQUIRE(env.ok());
    CHECK(env->store.sqlite_path == "env.db");
    CHECK(env->salt == "env");
    CHECK(env->scorers[0].policy.salt == "env");
    CHECK(env->pipeline.batch_size == 7);

    ConfigOverrides flags;
    flags.db = "flag.db";
    flags.salt = "flag";
    auto both = load(yaml, {{"ASSAY_DB", "env.db"}, {"ASSAY_SAMPLER_SALT", "env"}}, flags);
    REQUIRE(both.ok());
    CHECK(both->store.sqlite_path == "flag.db");
    CHECK(both->scorers[0].policy.salt == "flag");

    auto bad_env = load(yaml, {{"ASSAY_BATCH_SIZE", "lots"}});
    REQUIRE_FALSE(bad_env.ok());
    CHECK(bad_env.status().message() ==
          "environment variable ASSAY_BATCH_SIZE: expected an integer >= 1, got 'lots'");
}

TEST_CASE("config: a changed scorer config is a new version; sampling keys are not") {
    auto a = load("scorers: [{type: test_len, max: 5}]");
    auto b = load("scorers: [{type: test_len, max: 6}]");
    auto c = load("scorers: [{type: test_len, max: 5, sample_rate: 0.5, filter: {feature: x}}]");
    REQUIRE((a.ok() && b.ok() && c.ok()));
    CHECK(a->scorers[0].version != b->scorers[0].version);
    CHECK(a->scorers[0].version == c->scorers[0].version);
}

TEST_CASE("config: judges are validated and referenced by name") {
    const std::string judges = R"(
judges:
  - {name: primary, provider: openai, model: gpt-4o-2024-08-06, api_key_env: OPENAI_API_KEY,
     price: {input_per_mtok: 2.5, output_per_mtok: 10}}
)";
    CHECK(err(judges + "scorers: [{type: judge, sample_rate: 0.1, rubric: /nonexistent.yaml, "
                       "judges: [primary]}]")
              .find("key 'rubric': rubric '/nonexistent.yaml': cannot read the file") !=
          std::string::npos);
    const std::string dir = std::string(ASSAY_SOURCE_DIR) + "/rubrics/";
    auto ok = load(judges + "scorers: [{type: judge, sample_rate: 0.1, rubric: " + dir +
                   "helpfulness.yaml, judges: [primary]}]");
    REQUIRE_MESSAGE(ok.ok(), ok.status().message());
    auto other = load(judges + "scorers: [{type: judge, sample_rate: 0.1, rubric: " + dir +
                      "conciseness.yaml, judges: [primary]}]");
    REQUIRE(other.ok());
    CHECK(ok->scorers[0].version !=
          other->scorers[0].version);  // the rubric's bytes are in the version
    CHECK(ok->scorers[0].is_judge());
    CHECK(err(judges + "scorers: [{type: judge, sample_rate: 0.1, rubric: " + dir +
              "helpfulness.yaml, judges: [nobody]}]")
              .find("no judge named 'nobody'") != std::string::npos);
    CHECK(err("judges: [{name: j, provider: gemini, model: m}]\nscorers: [{type: test_len}]")
              .find("key 'provider': must be openai or anthropic") != std::string::npos);
    CHECK(err("judges: [{name: j, provider: openai, model: m, api_key_env: sk-abc123}]\nscorers: "
              "[{type: test_len}]")
              .find("never put the key itself") != std::string::npos);
    CHECK(err("judges: [{name: j, provider: openai, model: m, price: {input: 1}}]\nscorers: "
              "[{type: test_len}]")
              .find("judges[0].price: unknown key 'input'") != std::string::npos);
}

TEST_CASE("config: a judge scorer's version includes its judges' provider and model") {
    const std::string dir = std::string(ASSAY_SOURCE_DIR) + "/rubrics/";
    auto with = [&](const std::string& model, const std::string& price) {
        return load("judges:\n  - {name: primary, provider: openai, model: " + model +
                    ", api_key_env: OPENAI_API_KEY, price: {input_per_mtok: " + price +
                    ", output_per_mtok: 10}}\nscorers:\n  - {type: judge, sample_rate: 0.1, "
                    "rubric: " +
                    dir + "helpfulness.yaml, judges: [primary]}\n  - {type: test_len, max: 5}\n");
    };
    auto a = with("gpt-4o-2024-08-06", "2.5");
    auto b = with("gpt-5-mini", "2.5");
    auto c = with("gpt-4o-2024-08-06", "3");
    REQUIRE_MESSAGE(a.ok(), a.status().message());
    REQUIRE((b.ok() && c.ok()));
    CHECK(a->scorers[0].version != b->scorers[0].version);  // another model: a new version
    CHECK(a->scorers[0].version == c->scorers[0].version);  // the price is not the meaning
    CHECK(a->scorers[0].version.rfind("1.", 0) == 0);
    CHECK(a->scorers[1].version == b->scorers[1].version);  // code scorers are untouched
}

TEST_CASE("config: commands without a config file take flag > environment > default") {
    const std::map<std::string, std::string> none;
    const std::map<std::string, std::string> env = {{"ASSAY_DB", "env.db"},
                                                    {"ASSAY_REVIEW_TOKEN", "from-env"}};
    CHECK(assay::store_path_setting("flag.db", env) == "flag.db");
    CHECK(assay::store_path_setting("", env) == "env.db");
    CHECK(assay::store_path_setting("", none) == "assay.db");
    CHECK(assay::store_path_setting("", {{"ASSAY_DB", ""}}) == "assay.db");
    CHECK(assay::review_token_setting("flag-token", env) == "flag-token");
    CHECK(assay::review_token_setting("", env) == "from-env");
    CHECK(assay::review_token_setting("", none).empty());
}

TEST_CASE(
    "config: a scorer's version depends on its files' content, not on how their paths are "
    "spelled") {
    // Regression: invoice.schema.json, ./invoice.schema.json and the absolute
    // path gave three versions of one scorer.
    assay::testing::TempDir dir;
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir.file(name), std::ios::binary) << text;
    };
    write("invoice.schema.json", R"({"type": "object", "required": ["total"]})");
    write("extra.txt", "[anywhere]\nno_way\t\\bno way\\b\n");
    std::ifstream rubric(std::string(ASSAY_SOURCE_DIR) + "/rubrics/helpfulness.yaml",
                         std::ios::binary);
    write("helpfulness.yaml", std::string(std::istreambuf_iterator<char>(rubric), {}));
    const std::string judges = "judges: [{name: j, provider: openai, model: gpt-4o-2024-08-06}]\n";
    auto versions = [&](const std::string& path) {
        const std::string yaml =
            judges + "scorers:\n  - {name: f, type: format, schema_file: '" + path +
            "invoice.schema.json'}\n" + "  - {name: r, type: refusal, patterns_file: '" + path +
            "extra.txt'}\n" + "  - {name: h, type: judge, sample_rate: 1, judges: [j], rubric: '" +
            path + "helpfulness.yaml'}\n";
        auto cfg = load_config_text(yaml, dir.file("assay.yaml"), dir.path(), {}, {});
        REQUIRE_MESSAGE(cfg.ok(), cfg.status().message());
        std::vector<std::string> out;
        for (const auto& s : cfg->scorers) {
            out.push_back(s.version);
        }
        return out;
    };
    const auto plain = versions("");
    CHECK(versions("./") == plain);
    CHECK(versions(dir.path() + "/") == plain);
    CHECK(versions(dir.path() + "/../" + std::filesystem::path(dir.path()).filename().string() +
                   "/") == plain);
    // The content is what counts: an edited file is a new version of its scorer only.
    write("invoice.schema.json", R"({"type": "object", "required": ["total", "currency"]})");
    const auto edited = versions("");
    CHECK(edited[0] != plain[0]);
    CHECK(edited[1] == plain[1]);
    CHECK(edited[2] == plain[2]);
    write("extra.txt", "[anywhere]\nno_way\t\\bno way at all\\b\n");
    CHECK(versions("")[1] != plain[1]);
}

TEST_CASE("config: a key written twice in one mapping is refused with both lines") {
    // yaml-cpp would answer lookups with the first block and drop the second
    // without a word (a test once wrote its store twice and scored into ./assay.db).
    CHECK(err("store: {busy_timeout_ms: 20000}\nscorers: [{type: test_len}]\n"
              "store: {sqlite: /tmp/x.db}\n") ==
          "test.yaml: line 3: key 'store' appears twice in the same mapping (first at line 1); "
          "write it once");
    CHECK(err("scorers:\n  - {name: a, type: test_len, max: 5, max: 6}\n")
              .find("line 2: key 'max' appears twice") != std::string::npos);
    // The same key in different mappings is fine.
    auto ok = load(
        "store: {sqlite: a.db}\nscorers:\n  - {name: a, type: test_len}\n"
        "  - {name: b, type: test_len}\n");
    CHECK_MESSAGE(ok.ok(), ok.status().message());
}
