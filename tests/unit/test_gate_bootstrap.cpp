#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "gate/bootstrap.h"

using namespace assay::gate;

TEST_CASE("gate bootstrap: SplitMix64 reproduces the reference stream") {
    // Reference values of SplitMix64 (Steele et al.) from state 0.
    SplitMix64 rng(0);
    CHECK(rng.next() == 0xE220A8397B1DCDAFULL);
    CHECK(rng.next() == 0x6E789E6AA1B965F4ULL);
    CHECK(rng.next() == 0x06C45D188009454FULL);
}

TEST_CASE("gate bootstrap: below(n) stays in range and is close to uniform") {
    SplitMix64 rng(42);
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70000; ++i) {
        uint64_t v = rng.below(7);
        REQUIRE(v < 7);
        ++counts[v];
    }
    for (int c : counts) {
        CHECK(c > 9500);
        CHECK(c < 10500);
    }
    CHECK(rng.below(1) == 0);
}

TEST_CASE("gate bootstrap: same seed, same interval; another seed, another stream") {
    std::vector<double> d;
    for (int i = 0; i < 60; ++i) {
        d.push_back(std::sin(i * 1.7) - 0.1);
    }
    BootstrapOptions o;
    MeanDiffCI a = paired_bootstrap(d, o);
    MeanDiffCI b = paired_bootstrap(d, o);
    CHECK(a.low == b.low);
    CHECK(a.high == b.high);
    CHECK(a.mean == b.mean);
    o.seed = 7;
    MeanDiffCI c = paired_bootstrap(d, o);
    CHECK(c.mean == a.mean);
    CHECK((c.low != a.low || c.high != a.high));
}

TEST_CASE("gate bootstrap: interval on known data matches the normal approximation") {
    // 400 differences, half 0 and half 1: mean 0.5, standard error 0.5/20 = 0.025,
    // so the 95% interval is about 0.5 ± 0.049.
    std::vector<double> d;
    for (int i = 0; i < 400; ++i) {
        d.push_back(i % 2);
    }
    MeanDiffCI ci = paired_bootstrap(d, BootstrapOptions{});
    CHECK(ci.n == 400);
    CHECK(ci.mean == doctest::Approx(0.5));
    CHECK(ci.low == doctest::Approx(0.451).epsilon(0.01));
    CHECK(ci.high == doctest::Approx(0.549).epsilon(0.01));
    CHECK(ci.low < ci.mean);
    CHECK(ci.high > ci.mean);
}

TEST_CASE("gate bootstrap: degenerate inputs") {
    MeanDiffCI empty = paired_bootstrap({}, BootstrapOptions{});
    CHECK(empty.n == 0);
    CHECK(empty.mean == 0.0);
    MeanDiffCI one = paired_bootstrap({-2.0}, BootstrapOptions{});
    CHECK(one.low == -2.0);
    CHECK(one.high == -2.0);
    MeanDiffCI constant = paired_bootstrap(std::vector<double>(30, -1.0), BootstrapOptions{});
    CHECK(constant.low == -1.0);
    CHECK(constant.high == -1.0);
    // Every difference negative: the interval lies below zero.
    std::vector<double> neg;
    for (int i = 0; i < 50; ++i) {
        neg.push_back(-0.5 - (i % 5) * 0.1);
    }
    MeanDiffCI n = paired_bootstrap(neg, BootstrapOptions{});
    CHECK(n.high < 0.0);
}
