#include <doctest/doctest.h>

#include <fstream>

#include "core/trace_json.h"
#include "gate/case_checks.h"
#include "gate/dataset.h"
#include "gate/side_outputs.h"
#include "temp_dir.h"

using namespace assay;
using namespace assay::gate;
using assay::testing::TempDir;

namespace {

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
    std::string p = dir.file(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

std::string load_err(const std::string& text) {
    TempDir dir;
    auto r = load_dataset(write(dir, "cases.jsonl", text), 1 << 20);
    return r.ok() ? "" : r.status().message();
}

Trace trace_with(const std::string& output, const std::string& extra = "") {
    auto t =
        parse_trace(R"({"trace_id": "t", "output": )" + nlohmann::json(output).dump() + extra + "}",
                    ParseLimits{}, 0);
    REQUIRE_MESSAGE(t.ok(), t.status().message());
    return *t;
}

}  // namespace

TEST_CASE("gate dataset: loads cases in order with their fields") {
    TempDir dir;
    auto r = load_dataset(
        write(dir, "c.jsonl",
              "{\"id\": \"a\", \"input\": \"hi\", \"reference\": \"r\", \"context\": [\"d\"],"
              " \"metadata\": {\"feature\": \"faq\"}, \"expect\": {\"min_words\": 2}}\n\n"
              "{\"id\": \"b\", \"input\": [{\"role\": \"user\", \"content\": \"x\"}]}\n"),
        1 << 20);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    REQUIRE(r->cases.size() == 2);
    CHECK(r->cases[0].id == "a");
    CHECK(r->cases[1].line == 3);
    CHECK(r->sha256.size() == 64);
}

TEST_CASE("gate dataset: errors name the line and the problem") {
    CHECK(load_err("").find("has no cases") != std::string::npos);
    CHECK(load_err("\n\n").find("has no cases") != std::string::npos);
    CHECK(load_err("{\"id\": \"a\", \"input\": \"x\"}\n{oops\n").find("line 2: invalid JSON") !=
          std::string::npos);
    CHECK(load_err("[1]\n").find("line 1: expected a JSON object") != std::string::npos);
    CHECK(load_err("{\"input\": \"x\"}\n").find("field 'id' is missing") != std::string::npos);
    CHECK(load_err("{\"id\": 5, \"input\": \"x\"}\n").find("field 'id'") != std::string::npos);
    CHECK(load_err("{\"id\": \"a\"}\n").find("field 'input' is missing") != std::string::npos);
    CHECK(load_err("{\"id\": \"a\", \"input\": \"x\"}\n{\"id\": \"a\", \"input\": \"y\"}\n")
              .find("line 2: duplicate case id 'a'") != std::string::npos);
    CHECK(load_err("{\"id\": \"a\", \"input\": \"x\", \"expected\": {}}\n")
              .find("unknown key 'expected'") != std::string::npos);
    const std::string deep =
        "{\"id\": \"a\", \"input\": \"x\", \"metadata\": {\"k\": " + std::string(100000, '[') +
        "}}\n";
    CHECK(load_err(deep).find("line 1: JSON nests deeper than 64") != std::string::npos);
    TempDir dir;
    auto missing = load_dataset(dir.file("nope.jsonl"), 1 << 20);
    CHECK(!missing.ok());
}

TEST_CASE("gate side outputs: a missing case is an error naming its id; unknown ids too") {
    TempDir dir;
    auto ds = load_dataset(
        write(dir, "c.jsonl",
              "{\"id\": \"a\", \"input\": \"q1\", \"metadata\": {\"expected_format\": \"json\"}}\n"
              "{\"id\": \"b\", \"input\": \"q2\"}\n"),
        1 << 20);
    REQUIRE(ds.ok());
    auto miss =
        load_side("candidate", write(dir, "o.jsonl", "{\"trace_id\": \"a\", \"output\": \"{}\"}\n"),
                  *ds, ParseLimits{});
    REQUIRE(!miss.ok());
    CHECK(miss.status().message().find("no output for case 'b'") != std::string::npos);
    auto extra = load_side("candidate",
                           write(dir, "o2.jsonl",
                                 "{\"trace_id\": \"a\", \"output\": \"{}\"}\n{\"trace_id\": "
                                 "\"zz\", \"output\": \"x\"}\n"),
                           *ds, ParseLimits{});
    REQUIRE(!extra.ok());
    CHECK(extra.status().message().find("line 2: trace_id 'zz' is not a case id") !=
          std::string::npos);
    auto bad = load_side("baseline", write(dir, "o3.jsonl", "{\"trace_id\": \"a\"}\n"), *ds,
                         ParseLimits{});
    REQUIRE(!bad.ok());
    CHECK(bad.status().message().find("baseline") != std::string::npos);
    auto ok = load_side("baseline",
                        write(dir, "o4.jsonl",
                              "{\"trace_id\": \"b\", \"output\": \"two\"}\n{\"trace_id\": \"a\", "
                              "\"output\": \"{}\"}\n"),
                        *ds, ParseLimits{});
    REQUIRE_MESSAGE(ok.ok(), ok.status().message());
    REQUIRE(ok->size() == 2);
    CHECK((*ok)[0].trace_id == "a");  // dataset order
    CHECK((*ok)[0].input == "q1");    // completed from the case
    CHECK((*ok)[0].metadata.expected_format == "json");
}

TEST_CASE("gate expect checks reuse the code scorers") {
    auto checks = CaseChecks::build("c1", nlohmann::json::parse(R"({"format": "json",
        "schema": {"type": "object", "required": ["intent"]},
        "contains": ["Refund"], "not_contains": "guarantee", "regex": "order [A-Z][0-9]+",
        "min_words": 2, "max_words": 40})"),
                                    {}, {});
    REQUIRE_MESSAGE(checks.ok(), checks.status().message());
    auto good = checks->run_code(trace_with(R"({"intent": "refund for order A12"})"));
    REQUIRE(good.size() == 6);
    for (const auto& c : good) {
        CHECK_MESSAGE(c.passed, c.check << ": " << c.explanation);
    }
    auto bad = checks->run_code(trace_with("Sure! {\"intent\": 1} we guarantee it"));
    int failed = 0;
    for (const auto& c : bad) {
        failed += c.passed ? 0 : 1;
    }
    CHECK(failed == 5);  // only max_words still holds

    auto refusal = CaseChecks::build("c2", nlohmann::json::parse(R"({"refusal": true})"), {}, {});
    REQUIRE(refusal.ok());
    CHECK(refusal->run_code(trace_with("I'm sorry, but I can't help with that."))[0].passed);
    CHECK(!refusal->run_code(trace_with("Sure, here is how to do it."))[0].passed);
    CHECK(!refusal->run_code(trace_with(""))[0].passed);
}

TEST_CASE("gate expect checks: cases with the same check share one scorer") {
    CheckScorerCache cache;
    YAML::Node refusal(YAML::NodeType::Map);
    auto a = cache.get("refusal", refusal, "case 'a' expect.refusal");
    auto b = cache.get("refusal", refusal, "case 'b' expect.refusal");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->get() == b->get());
    YAML::Node words;
    words["min_words"] = 2;
    auto c = cache.get("length", words, "case 'c' expect.min_words");
    words["min_words"] = 3;
    auto d = cache.get("length", words, "case 'd' expect.min_words");
    REQUIRE(c.ok());
    REQUIRE(d.ok());
    CHECK(c->get() != d->get());  // other settings, another scorer
    // Built through the cache, checks behave as before.
    auto x = CaseChecks::build("x", nlohmann::json::parse(R"({"refusal": true, "min_words": 2})"),
                               {}, {}, &cache);
    REQUIRE(x.ok());
    CHECK(x->run_code(trace_with("I'm sorry, but I can't help with that."))[0].passed);
    CHECK(!x->run_code(trace_with("Sure, here is how to do it."))[0].passed);
}

TEST_CASE("gate expect checks: min_score and errors") {
    auto ms = CaseChecks::build("c", nlohmann::json::parse(R"({"min_score": {"helpful": 4}})"),
                                {"helpful"}, {"helpful"});
    REQUIRE(ms.ok());
    std::map<std::string, ScorerValue> vals;
    vals["helpful"].value = 4.0;
    auto r = ms->run_min_score(vals);
    REQUIRE(r.size() == 1);
    CHECK(r[0].passed);
    CHECK(r[0].on_judge);
    vals["helpful"].value = 3.0;
    CHECK(!ms->run_min_score(vals)[0].passed);
    vals["helpful"].value.reset();
    vals["helpful"].why_not = "judge_error: timeout";
    CHECK(ms->run_min_score(vals)[0].explanation.find("timeout") != std::string::npos);

    auto err = [](const char* j, std::vector<std::string> names = {}) {
        auto b = CaseChecks::build("c9", nlohmann::json::parse(j), names, {});
        return b.ok() ? std::string() : b.status().message();
    };
    CHECK(err(R"({"contain": ["x"]})").find("case 'c9' expect.contain: unknown key") !=
          std::string::npos);
    CHECK(err(R"({"min_words": "ten"})").find("expect.min_words") != std::string::npos);
    CHECK(err(R"({"min_words": 9, "max_words": 3})").find("must be <= max_words") !=
          std::string::npos);
    CHECK(err(R"({"regex": "(unclosed"})").find("expect.regex") != std::string::npos);
    CHECK(err(R"({"min_score": {"nope": 1}})").find("no scorer of this name") != std::string::npos);
    CHECK(err(R"({"refusal": "yes"})").find("expect.refusal") != std::string::npos);
    CHECK(err(R"({"format": "xml"})").find("expect.format") != std::string::npos);
}
