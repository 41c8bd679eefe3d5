// The statistics of `assay judges compare` (judge/judge_comparison.h):
// kappa per judge against the reviewers with a seeded bootstrap CI, the
// paired CI of the kappa difference and the "worse beyond the CI" verdict.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "judge/judge_comparison.h"

using namespace assay;

namespace {

// n traces; reviewers alternate pass/fail; `current_wrong` / `candidate_wrong`
// of them (from the start) get the opposite verdict from that judge.
std::vector<ComparedVerdicts> traces(int n, int current_wrong, int candidate_wrong) {
    std::vector<ComparedVerdicts> out;
    for (int i = 0; i < n; ++i) {
        const std::string r = i % 2 == 0 ? "pass" : "fail";
        const std::string flip = r == "pass" ? "fail" : "pass";
        out.push_back({r, i < current_wrong ? flip : r, i < candidate_wrong ? flip : r});
    }
    return out;
}

}  // namespace

TEST_CASE("comparison: nearest-rank quantiles") {
    const std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK(*nearest_rank_quantile(v, 0.025) == 1);
    CHECK(*nearest_rank_quantile(v, 0.5) == 5);
    CHECK(*nearest_rank_quantile(v, 0.975) == 10);
    CHECK_FALSE(nearest_rank_quantile({}, 0.5).has_value());
}

TEST_CASE("comparison: identical judges agree, and the candidate is not worse") {
    const auto s = compare_judges(traces(40, 4, 4), {});
    CHECK(s.traces == 40);
    CHECK(s.reviewer_pass_rate == doctest::Approx(0.5));
    CHECK(s.current.raw_agreement == doctest::Approx(0.9));
    CHECK(*s.current.vs_reviewers.kappa == doctest::Approx(0.8));
    CHECK(*s.kappa_diff == doctest::Approx(0.0));
    CHECK(s.between.observed == doctest::Approx(1.0));
    CHECK(*s.current.kappa_ci.lo < 0.8);
    CHECK(*s.current.kappa_ci.hi > 0.8);
    CHECK(*s.kappa_diff_ci.lo == doctest::Approx(0.0));
    CHECK_FALSE(s.candidate_worse);
}

TEST_CASE("comparison: a clearly worse candidate is worse beyond the CI") {
    const auto s = compare_judges(traces(60, 2, 24), {});
    REQUIRE(s.kappa_diff.has_value());
    CHECK(*s.kappa_diff < -0.5);
    CHECK(*s.kappa_diff_ci.hi < 0.0);
    CHECK(s.candidate_worse);
    // Confusion matrix rows: the judge; columns: the reviewers (sorted: fail, pass).
    const auto& m = s.candidate.vs_reviewers.matrix;
    REQUIRE(m.categories == std::vector<std::string>{"fail", "pass"});
    CHECK(m.counts[0][1] + m.counts[1][0] == 24);
}

TEST_CASE("comparison: a slightly worse candidate on few labels is within the noise") {
    const auto s = compare_judges(traces(20, 2, 3), {});
    CHECK(*s.kappa_diff < 0.0);
    CHECK(*s.kappa_diff_ci.hi >= 0.0);
    CHECK_FALSE(s.candidate_worse);
}

TEST_CASE("comparison: the bootstrap is deterministic per seed") {
    ComparisonOptions a;
    a.seed = 7;
    const auto x = compare_judges(traces(30, 3, 6), a);
    const auto y = compare_judges(traces(30, 3, 6), a);
    CHECK(*x.kappa_diff_ci.lo == *y.kappa_diff_ci.lo);
    CHECK(*x.candidate.kappa_ci.hi == *y.candidate.kappa_ci.hi);
    a.seed = 8;
    const auto z = compare_judges(traces(30, 3, 6), a);
    CHECK((*z.kappa_diff_ci.lo != *x.kappa_diff_ci.lo ||
           *z.kappa_diff_ci.hi != *x.kappa_diff_ci.hi ||
           *z.candidate.kappa_ci.lo != *x.candidate.kappa_ci.lo));
}

TEST_CASE("comparison: kappa undefined when the reviewers used one verdict") {
    std::vector<ComparedVerdicts> t(10, ComparedVerdicts{"pass", "pass", "fail"});
    const auto s = compare_judges(t, {});
    CHECK_FALSE(s.current.vs_reviewers.kappa.has_value());
    CHECK_FALSE(s.kappa_diff.has_value());
    CHECK_FALSE(s.candidate_worse);
}
