#pragma once
// Significance tests used by alert rules (README "Monitoring"). Pure
// functions of summary statistics; thread-safe. p-values are one-sided in the
// direction that would fire the alert (a drop, a rate below, a rate above).

#include <cstdint>

namespace assay {

// Summary of one sample: n, mean and sample variance (n-1 denominator).
struct SampleSummary {
    int64_t n = 0;
    double mean = 0;
    double variance = 0;
};

// Student's t distribution: P(T <= t) with `df` degrees of freedom (df > 0,
// need not be an integer).
double student_t_cdf(double t, double df);
// Standard normal CDF.
double normal_cdf(double z);
// Regularized incomplete beta function I_x(a, b), for 0 <= x <= 1.
double incomplete_beta(double a, double b, double x);

struct TestResult {
    double statistic = 0;  // t or z
    double df = 0;         // Welch-Satterthwaite degrees of freedom (t tests)
    double p_value = 1;    // one-sided
    bool ran = false;  // false: too few observations for the test (p_value 1 means nothing then)
};

// Welch's t-test that `current`'s mean is lower than `previous`'s by more
// than `margin` (H0: mu_prev - mu_cur <= margin). Needs n >= 2 on both sides;
// otherwise p = 1. Zero variance on both sides: p = 0 when the observed drop
// exceeds the margin, else 1.
TestResult welch_drop(const SampleSummary& previous, const SampleSummary& current, double margin);

// One-sample t-test that the mean is lower than `baseline - margin`.
TestResult one_sample_drop(const SampleSummary& current, double baseline, double margin);

// One-proportion z-test. below == true: H1 p < p0; else H1 p > p0.
// Uses the null's standard error sqrt(p0 (1 - p0) / n). p = 1 when n == 0.
TestResult proportion_test(int64_t successes, int64_t n, double p0, bool below);

// Two-proportion z-test (pooled) that rate b is lower than rate a.
TestResult two_proportion_drop(int64_t succ_a, int64_t n_a, int64_t succ_b, int64_t n_b);

}  // namespace assay
