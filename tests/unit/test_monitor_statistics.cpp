#include <doctest/doctest.h>

#include <cmath>

#include "monitor/duration.h"
#include "monitor/statistics.h"

using namespace assay;

TEST_CASE("monitor statistics: Student t CDF matches closed forms and tables") {
    // df = 1 is the Cauchy distribution: CDF(1) = 0.75.
    CHECK(student_t_cdf(1.0, 1.0) == doctest::Approx(0.75).epsilon(1e-9));
    // df = 2: CDF(t) = 1/2 + t / (2 sqrt(2 + t^2)).
    CHECK(student_t_cdf(2.0, 2.0) ==
          doctest::Approx(0.5 + 2.0 / (2.0 * std::sqrt(6.0))).epsilon(1e-9));
    CHECK(student_t_cdf(-2.0, 2.0) ==
          doctest::Approx(0.5 - 2.0 / (2.0 * std::sqrt(6.0))).epsilon(1e-9));
    // Two-sided 5% critical value for df = 10 is 2.228139.
    CHECK(student_t_cdf(2.228139, 10.0) == doctest::Approx(0.975).epsilon(1e-6));
    CHECK(student_t_cdf(0.0, 7.0) == doctest::Approx(0.5));
    // Large df tends to the normal.
    CHECK(student_t_cdf(1.959964, 1e7) == doctest::Approx(0.975).epsilon(1e-5));
    CHECK(normal_cdf(1.959964) == doctest::Approx(0.975).epsilon(1e-6));
    CHECK(normal_cdf(0.0) == doctest::Approx(0.5));
}

TEST_CASE("monitor statistics: Welch test of a drop") {
    // n = 10 each, means 5 and 4, variances 1: t = 1 / sqrt(0.2), df = 18.
    auto r = welch_drop({10, 5.0, 1.0}, {10, 4.0, 1.0}, 0.0);
    CHECK(r.statistic == doctest::Approx(1.0 / std::sqrt(0.2)));
    CHECK(r.df == doctest::Approx(18.0));
    CHECK(r.p_value == doctest::Approx(1.0 - student_t_cdf(r.statistic, 18.0)));
    CHECK(r.p_value > 0.015);
    CHECK(r.p_value < 0.025);
    // The margin is part of the null: a drop of 1 is not significantly more than 1.
    CHECK(welch_drop({10, 5.0, 1.0}, {10, 4.0, 1.0}, 1.0).p_value == doctest::Approx(0.5));
    // A rise is never a significant drop.
    CHECK(welch_drop({50, 4.0, 1.0}, {50, 5.0, 1.0}, 0.0).p_value > 0.99);
    // Too few samples: no evidence.
    CHECK(welch_drop({1, 5.0, 0.0}, {10, 1.0, 1.0}, 0.0).p_value == 1.0);
    // Unequal variances and sizes: Welch-Satterthwaite df.
    auto u = welch_drop({20, 3.0, 4.0}, {40, 2.5, 1.0}, 0.0);
    const double va = 4.0 / 20, vb = 1.0 / 40;
    CHECK(u.df == doctest::Approx((va + vb) * (va + vb) / (va * va / 19 + vb * vb / 39)));
    // Constant samples: certain either way.
    CHECK(welch_drop({5, 3.0, 0.0}, {5, 2.0, 0.0}, 0.5).p_value == 0.0);
    CHECK(welch_drop({5, 3.0, 0.0}, {5, 2.8, 0.0}, 0.5).p_value == 1.0);
}

TEST_CASE("monitor statistics: proportion tests") {
    // 80 of 100 against 0.9: z = -0.1 / 0.03.
    auto r = proportion_test(80, 100, 0.9, true);
    CHECK(r.statistic == doctest::Approx(-10.0 / 3.0));
    CHECK(r.p_value == doctest::Approx(normal_cdf(-10.0 / 3.0)));
    CHECK(r.p_value < 0.001);
    // 88 of 100 is not significantly below 0.9.
    CHECK(proportion_test(88, 100, 0.9, true).p_value > 0.2);
    // Above: 10 errors of 100 vs 0.05.
    auto a = proportion_test(10, 100, 0.05, false);
    CHECK(a.p_value == doctest::Approx(1.0 - normal_cdf(0.05 / std::sqrt(0.05 * 0.95 / 100))));
    CHECK(proportion_test(0, 0, 0.5, true).p_value == 1.0);
    // Two proportions: 90/100 then 70/100 is a significant drop; the reverse is not.
    CHECK(two_proportion_drop(90, 100, 70, 100).p_value < 0.001);
    CHECK(two_proportion_drop(70, 100, 90, 100).p_value > 0.99);
}

TEST_CASE("monitor durations") {
    CHECK(parse_duration_ms("7d").value() == 7 * 86400000LL);
    CHECK(parse_duration_ms("1h").value() == 3600000);
    CHECK(parse_duration_ms("30m").value() == 1800000);
    CHECK(parse_duration_ms("2w").value() == 14 * 86400000LL);
    CHECK(parse_duration_ms("45s").value() == 45000);
    CHECK_FALSE(parse_duration_ms("0d").ok());
    CHECK_FALSE(parse_duration_ms("7").ok());
    CHECK_FALSE(parse_duration_ms("d").ok());
    CHECK_FALSE(parse_duration_ms("-1h").ok());
    CHECK_FALSE(parse_duration_ms("1y").ok());
    CHECK_FALSE(parse_duration_ms("99999999999d").ok());
    CHECK(format_duration(7 * 86400000LL) == "1w");
    CHECK(format_duration(86400000) == "1d");
    CHECK(format_duration(5400000) == "90m");
}
