// The gate's report renderers (terminal, Markdown, JUnit, JSON) on verdicts
// computed from small sides.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "gate/report_json.h"
#include "gate/report_render.h"
#include "gate/verdict.h"
#include "gate_test_outcomes.h"

using namespace assay::gate;
using assay::gate::testing::pf;

namespace {

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) {
        ++n;
    }
    return n;
}

// The value of the first `name="..."` attribute after `from`.
std::string attr(const std::string& xml, const std::string& name, size_t from = 0) {
    const std::string key = " " + name + "=\"";
    const size_t at = xml.find(key, from);
    if (at == std::string::npos) {
        return "";
    }
    const size_t start = at + key.size();
    return xml.substr(start, xml.find('"', start) - start);
}

// n cases, one pass_fail scorer "json"; pass(i) gives case i's outcome; each
// case has two expect checks, check_ok(i, k) saying whether check k passes.
template <typename P, typename C>
SideResult side(const std::string& name, int n, P pass, C check_ok) {
    SideResult s;
    s.side = name;
    s.scorer_names = {"json"};
    for (int i = 0; i < n; ++i) {
        CaseResult c;
        c.id = "case-" + std::to_string(i);
        c.output_excerpt = name + " output " + std::to_string(i);
        c.scorers.push_back(pf(pass(i)));
        c.checks.push_back(
            {"contains \"refund\"", check_ok(i, 0), check_ok(i, 0) ? "" : "no 'refund'", false});
        c.checks.push_back(
            {"max_words 50", check_ok(i, 1), check_ok(i, 1) ? "" : "72 words", false});
        s.cases.push_back(c);
    }
    return s;
}

GateReport report(const SideResult& b, const SideResult& c, const GateRules& rules = {}) {
    GateReport r;
    r.generated_at = "2026-11-22T10:00:00.000Z";
    r.dataset_path = "cases.jsonl";
    r.cases = static_cast<int>(b.cases.size());
    r.rules = rules;
    r.scorers = {{"json", "format", "1.abc", false, false}};
    r.verdict = compute_verdict(b, c, {false}, rules);
    r.baseline = b;
    r.candidate = c;
    return r;
}

}  // namespace

TEST_CASE(
    "gate report: JUnit has one failure per failed testcase, every reason in it, and counts that "
    "match") {
    // Regression: a case with two expect checks regressed gave two <failure>
    // elements in one testcase while failures= counted one.
    auto all_ok = [](int, int) { return true; };
    auto b = side(
        "baseline", 5, [](int) { return true; }, all_ok);
    auto c = side(
        "candidate", 5, [](int i) { return i != 2; }, [](int i, int) { return i != 1; });
    const GateReport r = report(b, c);
    REQUIRE(r.verdict.regressions.size() == 3);  // case-1: two checks; case-2: json
    const std::string x = render_junit(r);
    CHECK(count(x, "<testcase ") == 10);  // 5 cases x (json, expect)
    CHECK(attr(x, "tests") == "10");
    CHECK(count(x, "<failure ") == 2);
    CHECK(attr(x, "failures") == "2");
    CHECK(attr(x, "failures", x.find("<testsuite ")) == "2");
    CHECK(attr(x, "errors") == "0");
    // The expect failure of case-1 names both checks and both reasons.
    const size_t tc = x.find("classname=\"assay.gate.expect\" name=\"case-1\"");
    REQUIRE(tc != std::string::npos);
    const std::string message = attr(x, "message", tc);
    CHECK(message.find("contains &quot;refund&quot;: pass -&gt; fail") != std::string::npos);
    CHECK(message.find("max_words 50: pass -&gt; fail") != std::string::npos);
    const std::string body = x.substr(tc, x.find("</testcase>", tc) - tc);
    CHECK(body.find("no &apos;refund&apos;") != std::string::npos);
    CHECK(body.find("72 words") != std::string::npos);
    CHECK(count(body, "<failure ") == 1);
}

TEST_CASE(
    "gate report: an error verdict is one testcase with an error, and the errors attribute counts "
    "it") {
    auto all_ok = [](int, int) { return true; };
    auto b = side(
        "baseline", 3, [](int) { return true; }, all_ok);
    auto c = b;
    c.judge_errors = 2;
    const GateReport r = report(b, c);
    REQUIRE(r.verdict.result == "error");
    const std::string x = render_junit(r);
    CHECK(count(x, "<error ") == 1);
    CHECK(attr(x, "errors") == "1");
    CHECK(attr(x, "tests") == std::to_string(count(x, "<testcase ")));
    CHECK(x.find("judge errors") != std::string::npos);
}

TEST_CASE("gate report: each rule's test and p-value are shown beside its verdict") {
    // Regression: json 100% -> 80% with the CI entirely below zero showed "ok"
    // without the sign test (p = 0.0625) that decided it, and the Markdown said
    // "(more than 2 regressed cases block)" though that rule did not fire.
    auto all_ok = [](int, int) { return true; };
    auto b = side(
        "baseline", 20, [](int) { return true; }, all_ok);
    auto c = side(
        "candidate", 20, [](int i) { return i >= 4; }, all_ok);
    const GateReport r = report(b, c);
    REQUIRE(r.verdict.result == "pass");
    const ScorerSummary& json = r.verdict.scorers.at(0);
    REQUIRE(json.ci.high < 0.0);
    REQUIRE(json.rules.size() == 2);
    CHECK(json.rules[0].rule == "mean");
    CHECK_FALSE(json.rules[0].blocks);
    CHECK(json.rules[0].p == doctest::Approx(0.0625));
    CHECK(json.rules[0].decided_by == "p = 0.0625 > 0.025");
    CHECK(json.rules[1].rule == "pass rate");
    CHECK(json.rules[1].decided_by == "p = 0.0625 > 0.01");
    CHECK(json.rules[1].measured == "100.0% -> 80.0% (-20.0 pt, limit -10.0 pt)");
    CHECK(r.verdict.count_rule.rule == "regressed cases");
    CHECK_FALSE(r.verdict.count_rule.blocks);
    CHECK(r.verdict.count_rule.decided_by == "p = 0.0625 > 0.01");

    const std::string term = render_terminal(r);
    CHECK(term.find("p = 0.0625 > 0.025") != std::string::npos);
    CHECK(term.find("sign test of 4 lost vs 0 gained") != std::string::npos);
    CHECK(term.find("rule 'regressed cases': ok, p = 0.0625 > 0.01") != std::string::npos);

    const std::string md = render_markdown(r);
    CHECK(md.find("more than 2 regressed cases block") == std::string::npos);
    CHECK(
        md.find(
            "4 regressed, 0 improved (rule &#39;regressed cases&#39;: ok, p = 0.0625 &gt; 0.01)") !=
        std::string::npos);
    CHECK(md.find("| json | mean | ok | 0.0625 | p = 0.0625 &gt; 0.025 |") != std::string::npos);

    const auto j = report_to_json(r);
    const auto& rules = j["summary"][0]["rules"];
    REQUIRE(rules.size() == 2);
    CHECK(rules[0]["rule"] == "mean");
    CHECK(rules[0]["blocks"] == false);
    CHECK(rules[0]["p"] == doctest::Approx(0.0625));
    CHECK(rules[0]["decided_by"] == "p = 0.0625 > 0.025");
    CHECK(j["verdict"]["count_rule"]["p"] == doctest::Approx(0.0625));

    // A blocking rule shows its test the same way: 6 of 20 lost, p = 1/64.
    auto c6 = side(
        "candidate", 20, [](int i) { return i >= 6; }, all_ok);
    const GateReport r6 = report(b, c6);
    REQUIRE(r6.verdict.result == "block");
    CHECK(r6.verdict.scorers.at(0).rules[0].blocks);
    CHECK(r6.verdict.scorers.at(0).rules[0].decided_by.rfind("p = 0.0156", 0) == 0);
    CHECK(render_terminal(r6).find("BLOCK") != std::string::npos);
}

TEST_CASE("gate report: trace text in Markdown never pings, links or cross-references") {
    const std::string zw = "\u200b";
    const std::string out = html_escape(
        "ask @octocat about #123 at https://evil.example or www.evil.example; "
        "mail a@b.c, C# and #x stay");
    CHECK(out.find("@octocat") == std::string::npos);
    CHECK(out.find("@" + zw + "octocat") != std::string::npos);
    CHECK(out.find("#" + zw + "123") != std::string::npos);
    CHECK(out.find("https://") == std::string::npos);
    CHECK(out.find("https:" + zw + "//evil.example") != std::string::npos);
    CHECK(out.find("www" + zw + ".evil.example") != std::string::npos);
    CHECK(out.find("C# and #x stay") != std::string::npos);  // not references: unchanged
    CHECK(html_escape("a|b") == "a&#124;b");
}

TEST_CASE(
    "gate report: the JSON carries the whole outputs of the regressed cases only, and says when "
    "one was cut") {
    auto all_ok = [](int, int) { return true; };
    auto b = side(
        "baseline", 3, [](int) { return true; }, all_ok);
    auto c = side(
        "candidate", 3, [](int i) { return i != 1; }, all_ok);
    const std::string tail(400, 'x');
    for (auto* s : {&b, &c}) {
        for (auto& k : s->cases) {
            k.output = k.output_excerpt + tail;  // longer than the 300-byte excerpt
        }
    }
    c.cases[1].output_cut = true;
    const auto j = report_to_json(report(b, c));
    REQUIRE(j["regressions"].size() == 1);
    const auto& bc = j["sides"]["baseline"]["cases"];
    const auto& cc = j["sides"]["candidate"]["cases"];
    CHECK(bc[1]["output"] == "baseline output 1" + tail);
    CHECK(bc[1]["output_truncated"] == false);
    CHECK(cc[1]["output"] == "candidate output 1" + tail);
    CHECK(cc[1]["output_truncated"] == true);
    for (int i : {0, 2}) {  // not regressed: the excerpt only
        CHECK_FALSE(bc[i].contains("output"));
        CHECK_FALSE(cc[i].contains("output"));
    }
}
