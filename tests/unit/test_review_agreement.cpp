// Agreement statistics against values computed by hand (see the comments).
#include <doctest/doctest.h>

#include <cmath>

#include "review/agreement.h"
#include "review/calibration.h"
#include "review/dataset_export.h"
#include "review/trends.h"

using namespace assay;
using namespace assay::review;

namespace {

std::vector<std::pair<std::string, std::string>> repeat(const std::string& a, const std::string& b,
                                                        int n) {
    return std::vector<std::pair<std::string, std::string>>(static_cast<size_t>(n), {a, b});
}

void append(std::vector<std::pair<std::string, std::string>>& to,
            std::vector<std::pair<std::string, std::string>> v) {
    to.insert(to.end(), v.begin(), v.end());
}

}  // namespace

TEST_CASE("review: Cohen's kappa for pass/fail, by hand") {
    // scorer\human  pass fail
    //   pass          20    5
    //   fail          10   15
    // p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4
    std::vector<std::pair<std::string, std::string>> p;
    append(p, repeat("pass", "pass", 20));
    append(p, repeat("pass", "fail", 5));
    append(p, repeat("fail", "pass", 10));
    append(p, repeat("fail", "fail", 15));
    auto k = cohen_kappa(p);
    REQUIRE(k.kappa);
    CHECK(*k.kappa == doctest::Approx(0.4));
    CHECK(k.observed == doctest::Approx(0.7));
    CHECK(k.expected == doctest::Approx(0.5));
    REQUIRE(k.matrix.categories == std::vector<std::string>{"fail", "pass"});
    CHECK(k.matrix.counts[1][1] == 20);  // pass/pass
    CHECK(k.matrix.counts[1][0] == 5);   // scorer pass, human fail
    CHECK(k.matrix.counts[0][1] == 10);
    CHECK(k.matrix.counts[0][0] == 15);
    CHECK(k.matrix.total == 50);
}

TEST_CASE("review: Cohen's kappa over three choices, by hand") {
    // rows scorer, columns human; n = 30, diagonal 24: p_o = 0.8
    //   a: 10 2 0 (12)   b: 1 8 1 (10)   c: 0 2 6 (8);  columns 11 12 7
    // p_e = (12*11 + 10*12 + 8*7) / 900 = 308/900; kappa = (720-308)/(900-308) = 412/592
    std::vector<std::pair<std::string, std::string>> p;
    append(p, repeat("a", "a", 10));
    append(p, repeat("a", "b", 2));
    append(p, repeat("b", "a", 1));
    append(p, repeat("b", "b", 8));
    append(p, repeat("b", "c", 1));
    append(p, repeat("c", "b", 2));
    append(p, repeat("c", "c", 6));
    auto k = cohen_kappa(p);
    REQUIRE(k.kappa);
    CHECK(*k.kappa == doctest::Approx(412.0 / 592.0));
}

TEST_CASE("review: kappa is undefined when everything falls in one category, and with no pairs") {
    CHECK_FALSE(cohen_kappa(repeat("pass", "pass", 7)).kappa);
    CHECK_FALSE(cohen_kappa({}).kappa);
    // perfect agreement over two categories is 1
    auto p = repeat("pass", "pass", 3);
    append(p, repeat("fail", "fail", 2));
    CHECK(*cohen_kappa(p).kappa == doctest::Approx(1.0));
}

TEST_CASE("review: Spearman and MAE, by hand") {
    // d = -1, 1, -1, 1, 0: rho = 1 - 6*4 / (5*24) = 0.8
    CHECK(*spearman({{1, 2}, {2, 1}, {3, 4}, {4, 3}, {5, 5}}) == doctest::Approx(0.8));
    // ties: ranks x = 1, 2.5, 2.5, 4; rho = 4.5 / sqrt(4.5 * 5)
    CHECK(*spearman({{1, 1}, {2, 2}, {2, 3}, {3, 4}}) == doctest::Approx(4.5 / std::sqrt(22.5)));
    CHECK(*spearman({{1, 3}, {2, 2}, {3, 1}}) == doctest::Approx(-1.0));
    CHECK_FALSE(spearman({{1, 1}}));
    CHECK_FALSE(spearman({{1, 1}, {1, 2}}));  // constant side
    CHECK(*mean_absolute_error({{1, 2}, {3, 3}, {5, 2}}) == doctest::Approx(4.0 / 3.0));
    CHECK_FALSE(mean_absolute_error({}));
    CHECK(average_ranks({10, 20, 20, 5}) == std::vector<double>{2, 3.5, 3.5, 1});
}

namespace {

CalibrationPair pair(const std::string& version, double value, std::optional<bool> passed,
                     const std::string& choice, const std::string& verdict,
                     std::optional<double> score = std::nullopt) {
    CalibrationPair p;
    p.trace_id = "t";
    p.scorer_version = version;
    p.value = value;
    p.passed = passed;
    p.choice = choice;
    p.human.scorer = "refusal";
    p.human.scorer_version = version;
    p.human.verdict = verdict;
    p.human.score = score;
    return p;
}

}  // namespace

TEST_CASE("review: calibration turns labels into pairs per version and warns") {
    std::vector<CalibrationPair> ps;
    // v1: scorer pass + agree (x3) -> pass/pass; scorer fail + agree (x1) -> fail/fail;
    //     scorer pass + disagree (x1) -> pass/fail; scorer fail + disagree (x1) -> fail/pass
    for (int i = 0; i < 3; ++i) {
        ps.push_back(pair("v1", 0, true, "answer", "agree"));
    }
    ps.push_back(pair("v1", 1, false, "refusal", "agree"));
    ps.push_back(pair("v1", 0, true, "answer", "disagree"));
    ps.push_back(pair("v1", 1, false, "refusal", "disagree"));
    ps.push_back(pair("v2", 0.2, std::nullopt, "", "score", 0.5));
    ps.push_back(pair("v2", 0.9, std::nullopt, "", "score", 0.7));
    ps.push_back(pair("v2", 0.4, std::nullopt, "", "agree"));
    CalibrationOptions opts;
    opts.min_kappa = 0.6;
    opts.min_labels = 5;
    auto cs = calibrate(ps, {}, opts);
    REQUIRE(cs.size() == 2);
    const auto& v1 = cs[0];
    CHECK(v1.version == "v1");
    CHECK(v1.labels == 6);
    REQUIRE(v1.pass_fail);
    // scorer\human: pass: pass 3, fail 1; fail: pass 1, fail 1. p_o = 4/6,
    // p_e = (4/6)(4/6) + (2/6)(2/6) = 20/36; kappa = (24/36 - 20/36) / (16/36) = 0.25
    CHECK(*v1.pass_fail->kappa == doctest::Approx(0.25));
    REQUIRE(v1.choice);  // two choices: a disagree flips to the other one
    CHECK(*v1.choice->kappa == doctest::Approx(0.25));
    CHECK(v1.warnings.size() == 1);
    CHECK(v1.warnings[0].find("below the bar") != std::string::npos);
    const auto& v2 = cs[1];
    CHECK(v2.labels == 3);
    CHECK_FALSE(v2.pass_fail);
    CHECK(v2.numeric_pairs == 3);  // (0.2,0.5) (0.9,0.7) (0.4,0.4)
    CHECK(*v2.mae == doctest::Approx((0.3 + 0.2 + 0.0) / 3));
    CHECK(*v2.spearman == doctest::Approx(0.5));  // ranks x 1,3,2 vs y 2,3,1: 1 - 6*2/24
    REQUIRE(v2.warnings.size() == 1);
    CHECK(v2.warnings[0].find("too few labels") != std::string::npos);
    auto j = to_json(v1);
    CHECK(j["pass_fail"]["confusion"]["counts"][1][1] == 3);
    CHECK(to_table(v1).find("WARNING") != std::string::npos);
}

TEST_CASE("review: Wilson interval, by hand (5 of 10: 0.2366-0.7634; 19 of 25: 0.5657-0.8850)") {
    auto a = wilson_interval(0.5, 10);
    CHECK(a.lo == doctest::Approx(0.236593).epsilon(1e-5));
    CHECK(a.hi == doctest::Approx(0.763407).epsilon(1e-5));
    auto b = wilson_interval(0.76, 25);
    CHECK(b.lo == doctest::Approx(0.565703).epsilon(1e-5));
    CHECK(b.hi == doctest::Approx(0.885037).epsilon(1e-5));
    auto all = wilson_interval(1.0, 3);  // never above 1
    CHECK(all.hi == doctest::Approx(1.0));
    CHECK(all.lo > 0.4);
}

TEST_CASE(
    "review: calibration on bottom-list labels: precision of flagged failures, kappa not defined "
    "(not 0.000)") {
    // The 25 bottom traces of a scorer: all failures; reviewers confirm 19.
    std::vector<CalibrationPair> ps;
    for (int i = 0; i < 25; ++i) {
        ps.push_back(pair("v1", 0, false, "refusal", i < 19 ? "agree" : "disagree"));
    }
    std::vector<VersionStrata> strata = {{"v1", {{"fail", 100, 0}, {"pass", 900, 0}}}};
    CalibrationOptions opts;
    auto cs = calibrate(ps, strata, opts);
    REQUIRE(cs.size() == 1);
    const auto& c = cs[0];
    REQUIRE(c.pass_fail);
    CHECK_FALSE(c.pass_fail->kappa);  // it was 0.000 ("do not trust this scorer") before
    CHECK(c.pass_fail->not_defined.find("the scorer said 'fail' on every labelled trace") !=
          std::string::npos);
    const VerdictAgreement* f = c.failures();
    REQUIRE(f);
    CHECK(f->scored == 100);
    CHECK(f->share == doctest::Approx(0.1));
    CHECK(f->all.agree == 19);
    CHECK(f->all.labels == 25);
    CHECK(*f->all.rate == doctest::Approx(0.76));
    CHECK(f->all.ci95->lo == doctest::Approx(0.565703).epsilon(1e-5));
    CHECK_FALSE(c.agreement.value);  // no random labels: not measured, and says why
    CHECK(c.agreement.not_measured.find("calibration queue") != std::string::npos);
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find("kappa is not defined") != std::string::npos);
    const std::string table = to_table(c);
    CHECK(table.find("kappa 0.000") == std::string::npos);
    CHECK(table.find("agreement: not measured") != std::string::npos);
    CHECK(table.find(
              "reviewers agreed on 19 of 25 labels = 0.760 (95% CI 0.566-0.885): the precision") !=
          std::string::npos);
    auto j = to_json(c);
    CHECK(j["pass_fail"]["kappa"].is_null());
    CHECK(j["agreement"]["value"].is_null());
    CHECK(j["precision_of_failures"]["rate"] == doctest::Approx(0.76));
}

TEST_CASE(
    "review: calibration-queue labels give agreement weighted by verdict share, with a Wilson "
    "interval") {
    std::vector<CalibrationPair> ps;
    auto queued = [&](bool passed, bool agree) {
        auto p = pair("v1", passed ? 1 : 0, passed, "", agree ? "agree" : "disagree");
        p.human.source = "calibration";
        ps.push_back(p);
    };
    for (int i = 0; i < 10; ++i) {
        queued(false, i < 8);  // fail: 8 of 10 confirmed
        queued(true, i < 9);   // pass: 9 of 10 confirmed
    }
    ps.push_back(pair("v1", 0, false, "", "agree"));  // a bottom-list label: precision only
    std::vector<VersionStrata> strata = {{"v1", {{"fail", 100, 0}, {"pass", 900, 0}}}};
    CalibrationOptions opts;
    opts.min_labels = 5;
    auto cs = calibrate(ps, strata, opts);
    REQUIRE(cs.size() == 1);
    const auto& c = cs[0];
    CHECK(c.labels == 21);
    CHECK(c.queue_labels == 20);
    // 0.1 * 0.8 + 0.9 * 0.9; effective n = 1 / (0.01/10 + 0.81/10)
    REQUIRE(c.agreement.value);
    CHECK(*c.agreement.value == doctest::Approx(0.89));
    CHECK(c.agreement.effective_labels == doctest::Approx(12.195122));
    CHECK(c.agreement.ci95->lo == doctest::Approx(0.617193).epsilon(1e-4));
    CHECK(c.agreement.ci95->hi == doctest::Approx(0.975963).epsilon(1e-4));
    CHECK(c.failures()->all.labels == 11);
    CHECK(c.failures()->queue.labels == 10);
    REQUIRE(c.pass_fail);
    REQUIRE(c.pass_fail->kappa);  // both verdicts on both sides: defined
    // Only one verdict sampled by the queue: agreement not measured, and says which is missing.
    std::vector<CalibrationPair> only_fail(ps.begin(), ps.begin() + 1);
    only_fail[0].human.source = "calibration";
    auto one = calibrate(only_fail, strata, opts);
    CHECK_FALSE(one[0].agreement.value);
    CHECK(one[0].agreement.not_measured.find("where the scorer said pass") != std::string::npos);
}

TEST_CASE("review: trends compute a 7-day moving average over calendar days") {
    CHECK(*day_number("1970-01-01") == 0);
    CHECK(*day_number("2026-11-22") == 20779);
    CHECK_FALSE(day_number("2026-13-01"));
    CHECK_FALSE(day_number("yesterday"));
    std::vector<TrendPoint> pts = {{"chat", "2026-11-01", 4, 0.1, 1.0},
                                   {"chat", "2026-11-02", 4, 0.1, 0.0},
                                   {"chat", "2026-11-05", 2, 0.1, 0.5},
                                   {"chat", "2026-11-09", 1, 0.1, 1.0},
                                   {"rag", "2026-11-01", 3, 0.25, std::nullopt}};
    auto s = build_series(pts);
    REQUIRE(s.size() == 2);
    CHECK(s[0].metric == "pass_rate");
    REQUIRE(s[0].points.size() == 4);
    CHECK(s[0].points[0].ma7 == doctest::Approx(1.0));
    CHECK(s[0].points[1].ma7 == doctest::Approx(0.5));
    CHECK(s[0].points[2].ma7 == doctest::Approx(0.5));
    CHECK(s[0].points[3].ma7 == doctest::Approx(0.75));  // 11-05 and 11-09 are within 6 days
    CHECK(s[1].metric == "mean");
    CHECK(s[1].points[0].value == doctest::Approx(0.25));
}

#include "review/views.h"

TEST_CASE("review: output pretty-printed only when it is a JSON object or array") {
    CHECK(*review::pretty_json(R"({"a":[1,2]})") == "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
    CHECK_FALSE(review::pretty_json("42"));
    CHECK_FALSE(review::pretty_json("plain text {"));
    CHECK_FALSE(review::pretty_json(""));
    TraceDetail d;
    d.trace_id = "x";
    d.raw =
        R"({"trace_id":"x","input":[{"role":"user","content":"<b>hi</b>"}],"output":"{\"ok\":true}"})";
    auto j = review::trace_json(d);
    CHECK(j["input"]["messages"][0]["role"] == "user");
    CHECK(j["input"]["messages"][0]["content"] ==
          "<b>hi</b>");  // data, escaped by the page's textContent
    CHECK(j["output"]["pretty_json"] == "{\n  \"ok\": true\n}");
    d.raw = "not json";
    auto bad = review::trace_json(d);
    CHECK(bad.contains("parse_error"));
    CHECK(bad["raw"] == "not json");
}

TEST_CASE(
    "review: key order kept: the trace view, its metadata and the exported case show JSON as "
    "produced") {
    // The model wrote "zeta" before "alpha"; a sorted dump would swap them.
    TraceDetail d;
    d.trace_id = "x";
    d.raw =
        R"({"trace_id":"x","input":{"zeta":1,"alpha":2},"output":"{\"zeta\":1,\"alpha\":{\"y\":2,\"b\":3}}",)"
        R"("metadata":{"feature":"f","zz_extra":1,"aa_extra":2}})";
    auto j = review::trace_json(d);
    CHECK(j["output"]["pretty_json"] ==
          "{\n  \"zeta\": 1,\n  \"alpha\": {\n    \"y\": 2,\n    \"b\": 3\n  }\n}");
    std::string text = j.dump();
    CHECK(text.find("\"zz_extra\"") < text.find("\"aa_extra\""));
    auto c = review::build_case(d, "refusal", "1");
    REQUIRE(c.ok());
    std::string line = c->dump();
    CHECK(line.find("\"zeta\"") < line.find("\"alpha\""));
    CHECK(line.find("\"zz_extra\"") < line.find("\"aa_extra\""));
}
