#include "monitor/statistics.h"

#include <cmath>
#include <limits>

namespace assay {

namespace {

// Continued fraction for the incomplete beta function (modified Lentz).
double beta_cf(double a, double b, double x) {
    const double k_tiny = 1e-300;
    const double k_eps = 1e-15;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0;
    double d = 1.0 - qab * x / qap;
    if (std::fabs(d) < k_tiny) {
        d = k_tiny;
    }
    d = 1.0 / d;
    double h = d;
    // One Lentz step with coefficient `aa`: updates c and d, returns the
    // factor h is multiplied by.
    auto step = [&](double aa) {
        d = 1.0 + aa * d;
        if (std::fabs(d) < k_tiny) {
            d = k_tiny;
        }
        c = 1.0 + aa / c;
        if (std::fabs(c) < k_tiny) {
            c = k_tiny;
        }
        d = 1.0 / d;
        return d * c;
    };
    for (int m = 1; m <= 500; ++m) {
        const double dm = static_cast<double>(m);
        h *= step(dm * (b - dm) * x / ((qam + 2 * dm) * (a + 2 * dm)));
        const double del = step(-(a + dm) * (qab + dm) * x / ((a + 2 * dm) * (qap + 2 * dm)));
        h *= del;
        if (std::fabs(del - 1.0) < k_eps) {
            break;
        }
    }
    return h;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
    if (x <= 0) {
        return 0;
    }
    if (x >= 1) {
        return 1;
    }
    const double ln_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    const double front = std::exp(ln_front);
    if (x < (a + 1.0) / (a + b + 2.0)) {
        return front * beta_cf(a, b, x) / a;
    }
    return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

double student_t_cdf(double t, double df) {
    if (std::isinf(t)) {
        return t > 0 ? 1.0 : 0.0;
    }
    const double x = df / (df + t * t);
    const double tail = 0.5 * incomplete_beta(df / 2.0, 0.5, x);  // P(T > |t|)
    return t > 0 ? 1.0 - tail : tail;
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

TestResult welch_drop(const SampleSummary& prev, const SampleSummary& cur, double margin) {
    TestResult r;
    if (prev.n < 2 || cur.n < 2) {
        return r;
    }
    r.ran = true;
    const double drop = prev.mean - cur.mean;
    const double va = prev.variance / static_cast<double>(prev.n);
    const double vb = cur.variance / static_cast<double>(cur.n);
    const double se2 = va + vb;
    if (se2 <= 0) {
        r.statistic = drop > margin ? std::numeric_limits<double>::infinity() : 0.0;
        r.p_value = drop > margin ? 0.0 : 1.0;
        return r;
    }
    r.statistic = (drop - margin) / std::sqrt(se2);
    const double den =
        va * va / static_cast<double>(prev.n - 1) + vb * vb / static_cast<double>(cur.n - 1);
    r.df = den > 0 ? se2 * se2 / den : static_cast<double>(prev.n + cur.n - 2);
    r.p_value = 1.0 - student_t_cdf(r.statistic, r.df);
    return r;
}

TestResult one_sample_drop(const SampleSummary& cur, double baseline, double margin) {
    TestResult r;
    if (cur.n < 2) {
        return r;
    }
    r.ran = true;
    const double drop = baseline - cur.mean;
    const double se2 = cur.variance / static_cast<double>(cur.n);
    if (se2 <= 0) {
        r.statistic = drop > margin ? std::numeric_limits<double>::infinity() : 0.0;
        r.p_value = drop > margin ? 0.0 : 1.0;
        return r;
    }
    r.statistic = (drop - margin) / std::sqrt(se2);
    r.df = static_cast<double>(cur.n - 1);
    r.p_value = 1.0 - student_t_cdf(r.statistic, r.df);
    return r;
}

TestResult proportion_test(int64_t successes, int64_t n, double p0, bool below) {
    TestResult r;
    if (n <= 0) {
        return r;
    }
    r.ran = true;
    const double p = static_cast<double>(successes) / static_cast<double>(n);
    double se = std::sqrt(p0 * (1.0 - p0) / static_cast<double>(n));
    if (se <= 0) {
        // p0 of exactly 0 or 1: any observation on the wrong side is certain.
        const bool beyond = below ? p < p0 : p > p0;
        r.statistic = beyond ? (below ? -1.0 : 1.0) * std::numeric_limits<double>::infinity() : 0.0;
        r.p_value = beyond ? 0.0 : 1.0;
        return r;
    }
    r.statistic = (p - p0) / se;
    r.p_value = below ? normal_cdf(r.statistic) : 1.0 - normal_cdf(r.statistic);
    return r;
}

TestResult two_proportion_drop(int64_t succ_a, int64_t n_a, int64_t succ_b, int64_t n_b) {
    TestResult r;
    if (n_a <= 0 || n_b <= 0) {
        return r;
    }
    r.ran = true;
    const double pa = static_cast<double>(succ_a) / static_cast<double>(n_a);
    const double pb = static_cast<double>(succ_b) / static_cast<double>(n_b);
    const double pool = static_cast<double>(succ_a + succ_b) / static_cast<double>(n_a + n_b);
    const double se = std::sqrt(pool * (1.0 - pool) *
                                (1.0 / static_cast<double>(n_a) + 1.0 / static_cast<double>(n_b)));
    if (se <= 0) {
        r.p_value = pb < pa ? 0.0 : 1.0;
        return r;
    }
    r.statistic = (pa - pb) / se;
    r.p_value = 1.0 - normal_cdf(r.statistic);
    return r;
}

}  // namespace assay
