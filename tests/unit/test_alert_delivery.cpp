// Alert delivery across checkers (alert_store.h, alert_manager.h) on both
// backends: the alerts row as the outbox of its notices, claimed with a lease,
// outcomes fenced on the claim; and several checkers at once against a real
// HTTP receiver (HttpServer on 127.0.0.1) sending each notice once, with its
// idempotency key.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/http_server.h"
#include "monitor/alert_manager.h"
#include "monitor/webhook.h"
#include "store/aggregate_store.h"
#include "store/alert_store.h"
#include "store/store.h"
#include "store_backends.h"

using namespace assay;

namespace {

// A fresh, migrated store; its location.
template <typename B>
std::unique_ptr<testing::TestDb> new_store() {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    return db;
}

int64_t insert_alert(AlertStore& store, const std::string& rule, bool resolved) {
    AlertRecord a;
    a.rule = rule;
    a.kind = "score_drop";
    a.group_key = "feature=chat";
    a.fired_ms = 1000;
    a.message = "mean fell";
    auto id = store.insert(a);
    REQUIRE_MESSAGE(id.ok(), id.status().message());
    if (resolved) {
        REQUIRE(store.resolve(*id, 2000, "recovered").ok());
    }
    return *id;
}

}  // namespace

TEST_CASE_TEMPLATE(
    "monitor alert delivery: one checker holds a row's claim; a lost claim writes nothing; an "
    "expired or dead holder's claim is taken over",
    B, testing::SqliteBackend, testing::PostgresBackend) {
    auto db = new_store<B>();
    auto s1 = open_alert_store(db->location());
    auto s2 = open_alert_store(db->location());
    REQUIRE(s1.ok());
    REQUIRE(s2.ok());
    AlertStore& w1 = **s1;
    AlertStore& w2 = **s2;
    const int64_t now = 5'000'000;

    // A live claim keeps the other checker out; its outcome is written.
    const int64_t a = insert_alert(w1, "a", false);
    auto c1 = w1.claim_delivery(a, "w1", "", now, now + 1000);
    REQUIRE(c1.ok());
    REQUIRE(c1->has_value());
    CHECK((*c1)->delivery_claimed_by == "w1");
    CHECK((*c1)->fire_delivered == Delivery::pending);
    auto c2 = w2.claim_delivery(a, "w2", "", now + 10, now + 1010);
    REQUIRE(c2.ok());
    CHECK_FALSE(c2->has_value());
    auto lost = w2.set_delivery(a, false, Delivery::delivered, "", "w2");
    REQUIRE(lost.ok());
    CHECK_FALSE(*lost);  // not w2's claim: nothing written
    CHECK(db->value("SELECT fire_delivered FROM alerts WHERE id = " + std::to_string(a)) == 0);
    auto written = w1.set_delivery(a, false, Delivery::delivered, "", "w1");
    REQUIRE(written.ok());
    CHECK(*written);
    REQUIRE(w1.release_delivery(a, "w1").ok());
    CHECK(db->value("SELECT count(*) FROM alerts WHERE delivery_claimed_by IS NULL") == 1);
    // Nothing left to deliver: no claim, even a free one.
    auto none = w2.claim_delivery(a, "w2", "", now + 20, now + 1020);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
    // Resolved: its resolve notice is claimable again, and the claim returns
    // the row as it is now (fire delivered), not as a stale list had it.
    REQUIRE(w1.resolve(a, 3000, "recovered").ok());
    auto again = w2.claim_delivery(a, "w2", "", now + 30, now + 1030);
    REQUIRE(again.ok());
    REQUIRE(again->has_value());
    CHECK((*again)->fire_delivered == Delivery::delivered);
    CHECK((*again)->resolve_delivered == Delivery::pending);
    REQUIRE(w2.release_delivery(a, "w2").ok());

    // An expired lease is taken over; the old holder's late write is refused.
    const int64_t b = insert_alert(w1, "b", false);
    REQUIRE(w1.claim_delivery(b, "w1", "", now, now + 1000)->has_value());
    CHECK_FALSE(w2.claim_delivery(b, "w2", "", now + 999, now + 2000)->has_value());
    auto taken = w2.claim_delivery(b, "w2", "", now + 1001, now + 2001);
    REQUIRE(taken.ok());
    CHECK(taken->has_value());
    CHECK_FALSE(*w1.set_delivery(b, false, Delivery::failed, "late", "w1"));
    CHECK(*w2.set_delivery(b, false, Delivery::delivered, "", "w2"));
    CHECK(db->value("SELECT fire_delivered FROM alerts WHERE id = " + std::to_string(b)) == 1);

    // A holder the caller found dead (a process of this host that is gone) is
    // replaced before its lease runs out; a live one named as dead is not.
    const int64_t c = insert_alert(w1, "c", false);
    REQUIRE(w1.claim_delivery(c, "w1", "", now, now + 60000)->has_value());
    CHECK_FALSE(w2.claim_delivery(c, "w2", "someone-else", now + 10, now + 1000)->has_value());
    CHECK(w2.claim_delivery(c, "w2", "w1", now + 10, now + 1000)->has_value());
}

TEST_CASE_TEMPLATE(
    "monitor alert delivery: three checkers at once send each notice once, with its "
    "idempotency key",
    B, testing::SqliteBackend, testing::PostgresBackend) {
    auto db = new_store<B>();
    {
        auto s = open_alert_store(db->location());
        REQUIRE(s.ok());
        for (int i = 0; i < 5; ++i) {
            insert_alert(**s, "rule-" + std::to_string(i), i < 2);  // two resolved
        }
    }
    // A real receiver that answers slowly, so that the checkers overlap.
    std::mutex mu;
    std::map<std::string, int> by_key;
    int without_key = 0;
    HttpServer receiver(HttpServerOptions{});
    receiver.post("/hook", [&](const HttpRequest& req, HttpResponse& res) {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        std::lock_guard lock(mu);
        const std::string key = req.get_header_value("Idempotency-Key");
        if (key.empty() ||
            req.body.find("\"idempotency_key\":\"" + key + "\"") == std::string::npos) {
            ++without_key;
        } else {
            ++by_key[key];
        }
        res.set_content("ok", "text/plain");
    });
    REQUIRE(receiver.start("127.0.0.1:0").ok());
    AlertsOptions o;  // no rules: the checks only deliver
    o.webhook.url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";
    o.webhook.format = "json";
    o.webhook.timeout_ms = 5000;
    o.webhook.max_retries = 0;
    std::vector<std::thread> checkers;
    std::vector<Status> results(3);
    std::vector<CheckReport> reports(3);
    for (size_t i = 0; i < 3; ++i) {
        checkers.emplace_back([&, i] {
            auto agg = open_aggregate_store(db->location());
            auto alerts = open_alert_store(db->location());
            if (!agg.ok() || !alerts.ok()) {
                results[i] = !agg.ok() ? agg.status() : alerts.status();
                return;
            }
            WebhookNotifier notifier(o.webhook);
            AlertManager m(o, **agg, **alerts, &notifier, "checker-" + std::to_string(i));
            auto r = m.check(now_ms());
            if (!r.ok()) {
                results[i] = r.status();
                return;
            }
            reports[i] = *r;
        });
    }
    for (auto& t : checkers) {
        t.join();
    }
    receiver.stop();
    int delivered = 0;
    for (size_t i = 0; i < 3; ++i) {
        CHECK_MESSAGE(results[i].ok(), results[i].message());
        CHECK(reports[i].delivery_failures == 0);
        delivered += reports[i].delivered;
    }
    CHECK(delivered == 7);  // 5 firing notices, 2 resolved
    CHECK(without_key == 0);
    CHECK(by_key.size() == 7);
    for (const auto& [key, n] : by_key) {
        CHECK_MESSAGE(n == 1, key << " sent " << n << " times");
    }
    CHECK(db->value("SELECT count(*) FROM alerts WHERE fire_delivered = 1") == 5);
    CHECK(db->value("SELECT count(*) FROM alerts WHERE resolve_delivered = 1") == 2);
    CHECK(db->value("SELECT count(*) FROM alerts WHERE delivery_claimed_by IS NOT NULL") == 0);
}

TEST_CASE("monitor alert delivery: the lease covers every attempt of both notices, plus 10 s") {
    WebhookOptions w;
    w.timeout_ms = 2000;
    w.max_retries = 0;
    CHECK(delivery_lease_ms(w) == 2 * 2000 + 10000);
    w.max_retries = 3;  // 4 attempts, 250 + 500 + 1000 ms between them
    CHECK(delivery_lease_ms(w) == 2 * (4 * 2000 + 1750) + 10000);
}
