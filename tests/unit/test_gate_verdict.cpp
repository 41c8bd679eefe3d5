#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "gate/gate_rules.h"
#include "gate/verdict.h"
#include "gate_test_outcomes.h"

using namespace assay::gate;
using assay::gate::testing::pf;

namespace {

ScorerOutcome val(double v) {
    ScorerOutcome o;
    o.decision = "scored";
    o.value = v;
    return o;
}

// One side with one scorer "s" over n cases; outcome(i) gives case i's result.
template <typename F>
SideResult side(const std::string& name, int n, F outcome) {
    SideResult s;
    s.side = name;
    s.scorer_names = {"s"};
    for (int i = 0; i < n; ++i) {
        CaseResult c;
        c.id = "case-" + std::to_string(i);
        c.scorers.push_back(outcome(i));
        s.cases.push_back(c);
    }
    return s;
}

bool has_reason(const Verdict& v, const std::string& part) {
    for (const auto& r : v.reasons) {
        if (r.find(part) != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("gate verdict: identical sides pass with no regressions") {
    auto b = side("baseline", 50, [](int i) { return pf(i % 7 != 0); });
    Verdict v = compute_verdict(b, b, {false}, GateRules{});
    CHECK(v.result == "pass");
    CHECK(v.exit_code == 0);
    CHECK(v.regressions.empty());
    REQUIRE(v.scorers.size() == 2);  // s and expect
    CHECK(v.scorers[0].kind == "pass_fail");
    CHECK(v.scorers[0].ci.mean == 0.0);
}

TEST_CASE("gate verdict: more than K regressed cases block; K or fewer do not (count_test none)") {
    GateRules raw;
    raw.count_test = "none";
    auto b = side("baseline", 100, [](int) { return pf(true); });
    auto two = side("candidate", 100, [](int i) { return pf(i != 3 && i != 40); });
    Verdict v2 = compute_verdict(b, two, {false}, raw);
    CHECK(v2.regressed_cases == 2);
    CHECK(v2.result == "pass");
    auto three = side("candidate", 100, [](int i) { return pf(i != 3 && i != 40 && i != 77); });
    Verdict v3 = compute_verdict(b, three, {false}, raw);
    CHECK(v3.regressed_cases == 3);
    CHECK(v3.result == "block");
    CHECK(v3.exit_code == 1);
    CHECK(has_reason(v3, "3 cases regressed"));
    REQUIRE(v3.regressions.size() == 3);
    CHECK(v3.regressions[0].case_id == "case-3");
    CHECK(v3.regressions[2].case_id == "case-77");
    CHECK(v3.regressions[0].explanation == "broken");
}

TEST_CASE("gate verdict: the sign test keeps noise from blocking by count") {
    CHECK(sign_test_p(0, 5) == 1.0);
    CHECK(sign_test_p(3, 0) == doctest::Approx(0.125));
    CHECK(sign_test_p(4, 0) == doctest::Approx(0.0625));
    CHECK(sign_test_p(9, 1) == doctest::Approx(11.0 / 1024.0));
    CHECK(sign_test_p(5, 5) == doctest::Approx(638.0 / 1024.0));
    GateRules r;
    r.mean_drop = 1.0;
    r.pass_rate_drop = 1.0;
    auto b = side("baseline", 100, [](int i) { return pf(i < 50); });
    // 5 regress (cases 0-4), 4 improve (cases 50-53): churn, not a regression.
    auto churn =
        side("candidate", 100, [](int i) { return pf((i >= 5 && i < 50) || (i >= 50 && i < 54)); });
    Verdict vc = compute_verdict(b, churn, {false}, r);
    CHECK(vc.regressed_cases == 5);
    CHECK(vc.improved_cases == 4);
    CHECK(vc.result == "pass");
    // 5 regress, none improve: p = 1/32 > 0.01 (the default count_alpha),
    // so not yet; at count_alpha 0.05 it blocks.
    auto five = side("candidate", 100, [](int i) { return pf(i >= 5 && i < 50); });
    CHECK(compute_verdict(b, five, {false}, r).result == "pass");
    GateRules loose = r;
    loose.count_alpha = 0.05;
    Verdict vf = compute_verdict(b, five, {false}, loose);
    CHECK(vf.result == "block");
    CHECK(has_reason(vf, "sign test p = 0.03125"));
    // 7 regress, none improve: p = 1/128 <= 0.01.
    auto real = side("candidate", 100, [](int i) { return pf(i >= 7 && i < 50); });
    Verdict vr = compute_verdict(b, real, {false}, r);
    CHECK(vr.result == "block");
    CHECK(has_reason(vr, "sign test p = 0.0078"));
}

TEST_CASE("gate verdict: a per-scorer max_regressions blocks on the raw count") {
    auto b = side("baseline", 50, [](int) { return pf(true); });
    auto c = side("candidate", 50, [](int i) { return pf(i != 7); });
    CHECK(compute_verdict(b, c, {false}, GateRules{}).result == "pass");
    GateRules r;
    r.scorers["s"].max_regressions = 0;
    Verdict v = compute_verdict(b, c, {false}, r);
    CHECK(v.result == "block");
    CHECK(has_reason(v, "s: 1 cases regressed (at most 0 allowed for this scorer)"));
}

TEST_CASE("gate verdict: a mean drop blocks only when the CI lies below zero") {
    GateRules r;
    r.max_regressions = 1000;
    r.pass_rate_drop = 1.0;
    // 8 of 100 cases regress, none improve: drop 0.08 > 0.05 and CI below 0.
    auto b = side("baseline", 100, [](int) { return pf(true); });
    auto c = side("candidate", 100, [](int i) { return pf(i % 12 != 0 || i > 90); });
    Verdict v = compute_verdict(b, c, {false}, r);
    CHECK(v.scorers[0].ci.mean == doctest::Approx(-0.08));
    CHECK(v.scorers[0].ci.high < 0.0);
    CHECK(v.result == "block");
    CHECK(has_reason(v, "mean dropped by 0.08"));

    // Same net drop over few, mixed changes: 6 regress, 4 improve in 20
    // cases: mean -0.1, but the CI includes 0 -> no block by this rule.
    auto b2 = side("baseline", 20, [](int i) { return pf(i < 10); });
    auto c2 =
        side("candidate", 20, [](int i) { return pf((i >= 6 && i < 10) || (i >= 10 && i < 14)); });
    Verdict v2 = compute_verdict(b2, c2, {false}, r);
    CHECK(v2.scorers[0].ci.mean == doctest::Approx(-0.1));
    CHECK(v2.scorers[0].ci.high > 0.0);
    CHECK(v2.result == "pass");
}

TEST_CASE(
    "gate verdict: a pass_fail mean drop also needs the exact test the bootstrap overstates") {
    GateRules r;
    r.max_regressions = 1000;
    r.pass_rate_drop = 1.0;
    // 4 of 20 cases lose their pass, none gain: the percentile CI lies below
    // zero (fewer than 2.5% of resamples miss all four), but the exact
    // one-sided p is 1/16 = 0.0625 > 0.025.
    auto b = side("baseline", 20, [](int) { return pf(true); });
    auto four = side("candidate", 20, [](int i) { return pf(i >= 4); });
    Verdict v4 = compute_verdict(b, four, {false}, r);
    CHECK(v4.scorers[0].ci.high < 0.0);
    CHECK(v4.scorers[0].blocks.empty());
    CHECK(v4.result == "pass");
    // 6 of 20, none gained: p = 1/64 <= 0.025.
    auto six = side("candidate", 20, [](int i) { return pf(i >= 6); });
    Verdict v6 = compute_verdict(b, six, {false}, r);
    CHECK(v6.result == "block");
    CHECK(has_reason(v6, "6 lost vs 0 gained, exact p = 0.0156"));
}

TEST_CASE("gate verdict: a pass-rate drop beyond its threshold blocks") {
    GateRules r;
    r.max_regressions = 1000;
    r.mean_drop = 1.0;
    r.pass_rate_drop = 0.10;
    auto b = side("baseline", 50, [](int) { return pf(true); });
    auto c = side("candidate", 50, [](int i) { return pf(i >= 7); });  // 86%
    Verdict v = compute_verdict(b, c, {false}, r);
    CHECK(v.result == "block");
    CHECK(has_reason(
        v, "pass rate dropped from 100.0% to 86.0% (more than 10.0%), 7 lost vs 0 gained"));
    r.scorers["s"].pass_rate_drop = 0.15;
    CHECK(compute_verdict(b, c, {false}, r).result == "pass");
    // A drop of 12 points made of 9 lost and 3 gained passes is churn for
    // the sign test (p = 0.073 > 0.01), but blocks with count_test none.
    GateRules churn = r;
    churn.scorers.clear();
    auto b2 = side("baseline", 50, [](int i) { return pf(i < 40); });
    auto c2 =
        side("candidate", 50, [](int i) { return pf((i >= 9 && i < 40) || (i >= 40 && i < 43)); });
    Verdict vc = compute_verdict(b2, c2, {false}, churn);
    CHECK(vc.scorers[0].pass_lost == 9);
    CHECK(vc.scorers[0].pass_gained == 3);
    CHECK(vc.result == "pass");
    churn.count_test = "none";
    CHECK(compute_verdict(b2, c2, {false}, churn).result == "block");
}

TEST_CASE("gate verdict: judge scores regress by the drop δ; auto δ follows the scale") {
    auto b = side("baseline", 10, [](int) { return val(4.0); });
    auto c = side("candidate", 10, [](int i) {
        return val(i == 0 ? 3.0 : i == 1 ? 3.5 : i == 2 ? 5.0 : 4.0);
    });
    Verdict v = compute_verdict(b, c, {true}, GateRules{});
    CHECK(v.scorers[0].kind == "score");
    CHECK(v.scorers[0].score_drop == 1.0);  // values outside [0, 1]
    REQUIRE(v.regressions.size() == 1);
    CHECK(v.regressions[0].case_id == "case-0");
    CHECK(v.improved_cases == 1);

    auto b01 = side("baseline", 10, [](int) { return val(0.9); });
    auto c01 = side("candidate", 10, [](int i) { return val(i < 3 ? 0.6 : 0.9); });
    GateRules raw;
    raw.count_test = "none";
    Verdict v01 = compute_verdict(b01, c01, {true}, raw);
    CHECK(v01.scorers[0].score_drop == 0.25);
    CHECK(v01.regressed_cases == 3);
    CHECK(v01.result == "block");
}

TEST_CASE("gate verdict: lower_is_better flips the direction; info scorers never block") {
    GateRules r;
    r.scorers["s"].score_drop = 10.0;
    r.scorers["s"].lower_is_better = true;
    auto b = side("baseline", 10, [](int) { return val(100.0); });
    auto c = side("candidate", 10, [](int i) { return val(i < 4 ? 80.0 : 100.0); });
    Verdict v = compute_verdict(b, c, {false}, r);
    CHECK(v.regressed_cases == 0);
    CHECK(v.improved_cases == 4);
    // Without a rule, a numeric code scorer is informational.
    Verdict info = compute_verdict(c, b, {false}, GateRules{});
    CHECK(info.scorers[0].kind == "info");
    CHECK(info.result == "pass");
}

TEST_CASE("gate verdict: expect checks regress per check") {
    auto mk = [](const std::string& name, bool json_ok, bool contains_ok) {
        SideResult s;
        s.side = name;
        for (int i = 0; i < 4; ++i) {
            CaseResult c;
            c.id = "c" + std::to_string(i);
            bool last = i == 3;
            c.checks.push_back({"format=json", last ? json_ok : true,
                                last && !json_ok ? "invalid JSON" : "", false});
            c.checks.push_back({"contains \"x\"", last ? contains_ok : true, "", false});
            s.cases.push_back(c);
        }
        return s;
    };
    Verdict v =
        compute_verdict(mk("baseline", true, false), mk("candidate", false, true), {}, GateRules{});
    REQUIRE(v.regressions.size() == 1);
    CHECK(v.regressions[0].scorer == "expect");
    CHECK(v.regressions[0].check == "format=json");
    CHECK(v.regressions[0].explanation == "invalid JSON");
    REQUIRE(v.improvements.size() == 1);
    CHECK(v.improvements[0].check == "contains \"x\"");
    CHECK(v.regressed_cases == 1);
    CHECK(v.scorers.back().scorer == "expect");
}

TEST_CASE("gate verdict: judge errors beyond the allowance fail closed") {
    auto b = side("baseline", 5, [](int) { return val(4.0); });
    auto c = b;
    c.judge_errors = 1;
    Verdict v = compute_verdict(b, c, {true}, GateRules{});
    CHECK(v.result == "error");
    CHECK(v.exit_code == 2);
    GateRules r;
    r.allow_judge_errors = 1;
    CHECK(compute_verdict(b, c, {true}, r).exit_code == 0);
}

TEST_CASE("gate verdict: mismatched sides are an error") {
    auto b = side("baseline", 5, [](int) { return pf(true); });
    auto c = side("candidate", 4, [](int) { return pf(true); });
    CHECK(compute_verdict(b, c, {false}, GateRules{}).exit_code == 2);
}

TEST_CASE("gate rules: defaults, overrides and errors naming the key") {
    auto d = parse_gate_rules(YAML::Node());
    REQUIRE(d.ok());
    CHECK(d->max_regressions == 2);
    CHECK(d->mean_drop == 0.05);
    CHECK(d->pass_rate_drop == 0.10);
    CHECK(!d->score_drop);
    CHECK(d->bootstrap.resamples == 10000);
    CHECK(d->short_circuit);
    CHECK(d->count_test == "sign");
    CHECK(d->count_alpha == 0.01);
    auto r = parse_gate_rules(
        YAML::Load("{max_regressions: 0, score_drop: 0.5, scorers: {tone: {ignore: true}}}"));
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->max_regressions == 0);
    CHECK(*r->score_drop == 0.5);
    CHECK(r->rule("tone").ignore);
    auto bad = parse_gate_rules(YAML::Load("{max_regresions: 3}"));
    REQUIRE(!bad.ok());
    CHECK(bad.status().message().find("max_regresions") != std::string::npos);
    auto bad2 = parse_gate_rules(YAML::Load("{pass_rate_drop: 2}"));
    REQUIRE(!bad2.ok());
    CHECK(bad2.status().message().find("pass_rate_drop") != std::string::npos);
    auto bad3 = parse_gate_rules(YAML::Load("{scorers: {tone: {ignor: true}}}"));
    REQUIRE(!bad3.ok());
    CHECK(bad3.status().message().find("ignor") != std::string::npos);
}

TEST_CASE("gate rules: the config's gate block reaches the gate; other commands ignore it") {
    auto cfg = assay::load_config_text(
        "scorers:\n  - {name: len, type: length, max_words: 5}\n"
        "gate: {max_regressions: 4, scorers: {len: {max_regressions: 0}}}\n",
        "t.yaml", ".", assay::ConfigOverrides{}, {});
    REQUIRE_MESSAGE(cfg.ok(), cfg.status().message());
    auto r = parse_gate_rules(cfg->gate);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->max_regressions == 4);
    CHECK(r->rule("len").max_regressions == 0);
    auto none = assay::load_config_text("scorers:\n  - {name: len, type: length}\n", "t.yaml", ".",
                                        assay::ConfigOverrides{}, {});
    REQUIRE(none.ok());
    CHECK(parse_gate_rules(none->gate)->max_regressions == 2);
}
