// The review server's login pieces on their own: the failed-login back-off and
// its bounded address table, the session table's expiry and bound, and the
// --public-url parser. (End to end: tests/e2e/test_review_login_e2e.py.)
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "config/config.h"
#include "review/login_throttle.h"
#include "review/public_url.h"
#include "review/session_table.h"

using namespace assay::review;

TEST_CASE("login throttle: free failures, then doubling lock-outs up to the cap") {
    LoginThrottleOptions o;
    o.free_failures = 3;
    o.first_delay_ms = 1000;
    o.max_delay_ms = 8000;
    LoginThrottle t(o);
    int64_t now = 1000000;
    for (int i = 1; i <= 3; ++i) {
        auto f = t.failed("10.0.0.1", now);
        CHECK(f.failures == i);
        CHECK(f.lock_ms == 0);
        CHECK(t.wait_ms("10.0.0.1", now) == 0);
    }
    const int64_t expected[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (int64_t lock : expected) {
        REQUIRE(t.wait_ms("10.0.0.1", now) == 0);
        CHECK(t.failed("10.0.0.1", now).lock_ms == lock);
        CHECK(t.wait_ms("10.0.0.1", now) == lock);
        CHECK(t.wait_ms("10.0.0.1", now + lock - 1) == 1);
        CHECK(t.wait_ms("10.0.0.2", now) == 0);  // other addresses are not affected
        now += lock;
    }
    t.succeeded("10.0.0.1");
    CHECK(t.failed("10.0.0.1", now).lock_ms == 0);  // a success starts afresh
    CHECK(t.failures_total() == 10);
}

TEST_CASE("login throttle: a quiet address is forgotten") {
    LoginThrottleOptions o;
    o.free_failures = 1;
    o.forget_after_ms = 60000;
    LoginThrottle t(o);
    t.failed("a", 0);
    CHECK(t.failed("a", 1000).lock_ms > 0);
    CHECK(t.failed("a", 1000 + 60000).lock_ms == 0);
}

TEST_CASE("login throttle: the address table is bounded, oldest evicted") {
    LoginThrottleOptions o;
    o.free_failures = 0;
    o.max_addresses = 100;
    LoginThrottle t(o);
    for (int i = 0; i < 10000; ++i) {
        t.failed("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), i);
    }
    CHECK(t.addresses() == 100);
    CHECK(t.wait_ms("10.1.0.0", 10000) == 0);   // the oldest were evicted
    CHECK(t.wait_ms("10.1.39.15", 10000) > 0);  // the newest (9999) is remembered
}

TEST_CASE("sessions: absolute expiry, end, bounded count") {
    SessionOptions o;
    o.ttl_ms = 1000;
    o.max_sessions = 3;
    SessionTable s(o);
    auto a = s.create(0);
    REQUIRE(a.ok());
    CHECK(a->size() == 64);
    CHECK(s.valid(*a, 999));
    CHECK_FALSE(s.valid(*a, 1000));
    CHECK(s.size() == 0);  // an expired session is dropped when seen
    auto b = s.create(10);
    auto c = s.create(20);
    auto d = s.create(30);
    auto e = s.create(40);  // full: the oldest (b) goes
    CHECK(s.size() == 3);
    CHECK_FALSE(s.valid(*b, 50));
    CHECK(s.valid(*c, 50));
    CHECK(s.valid(*e, 50));
    CHECK(s.end(*d));
    CHECK_FALSE(s.valid(*d, 50));
    CHECK_FALSE(s.end(*d));
    CHECK_FALSE(s.valid("forged", 50));
}

TEST_CASE("public URL: parsed, or refused with the reason") {
    auto u = parse_public_url("HTTPS://Review.Example.com:8443/team/assay/");
    REQUIRE(u.ok());
    CHECK(u->origin() == "https://review.example.com:8443");
    CHECK(u->prefix == "/team/assay");
    CHECK(u->secure());
    auto plain = parse_public_url("http://[::1]:8700");
    REQUIRE(plain.ok());
    CHECK(plain->origin() == "http://[::1]:8700");
    CHECK(plain->prefix.empty());
    CHECK_FALSE(plain->secure());
    CHECK(parse_public_url("https://h/").value().prefix.empty());
    for (const char* bad :
         {"", "review.example.com", "ftp://h", "https://", "https://u:p@h/", "https://h:0",
          "https://h:70000", "https://h:", "https://h/a?b", "https://h/a#b", "https://h/a b",
          "https://h/a\"b", "https://h//a", "https://h/../a", "https://-h", "https://h<x>"}) {
        auto r = parse_public_url(bad);
        CHECK_MESSAGE(!r.ok(), bad);
        if (!r.ok()) {
            CHECK(r.status().message().find(std::string("'") + bad + "'") != std::string::npos);
        }
    }
}

TEST_CASE("review settings: --session-ttl, then ASSAY_REVIEW_SESSION_TTL, then 12 h") {
    const std::map<std::string, std::string> none;
    CHECK(assay::review_session_ttl_setting("", none).value() == 43200);
    CHECK(assay::review_session_ttl_setting("90", none).value() == 90);
    CHECK(assay::review_session_ttl_setting("30m", none).value() == 1800);
    CHECK(assay::review_session_ttl_setting("7d", none).value() == 7 * 86400);
    CHECK(assay::review_session_ttl_setting("", {{"ASSAY_REVIEW_SESSION_TTL", "2h"}}).value() ==
          7200);
    CHECK(assay::review_session_ttl_setting("1h", {{"ASSAY_REVIEW_SESSION_TTL", "2h"}}).value() ==
          3600);
    for (const char* bad : {"0", "31d", "12x", "h", "-5", "1.5h", "99999999999"}) {
        auto r = assay::review_session_ttl_setting(bad, none);
        CHECK_MESSAGE(!r.ok(), bad);
        if (!r.ok()) {
            CHECK(r.status().message().find(std::string("--session-ttl '") + bad + "'") !=
                  std::string::npos);
        }
    }
    auto env = assay::review_session_ttl_setting("", {{"ASSAY_REVIEW_SESSION_TTL", "0s"}});
    REQUIRE_FALSE(env.ok());
    CHECK(env.status().message().find("ASSAY_REVIEW_SESSION_TTL '0s'") != std::string::npos);
}
