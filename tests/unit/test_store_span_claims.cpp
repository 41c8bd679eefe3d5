// SpanStore::claim and stale_traces (store/span_store.h): which worker builds
// an OTLP trace whose spans several workers stored, on both backends.
#include <doctest/doctest.h>

#include <thread>

#include "core/trace_json.h"
#include "store/span_store.h"
#include "store/store.h"
#include "store_backends.h"

using namespace assay;

namespace {

struct Opened {
    std::unique_ptr<testing::TestDb> db;
    std::unique_ptr<Store> main;
};

template <typename B>
Opened open_migrated() {
    Opened o{B::make(), nullptr};
    auto s = open_store(o.db->options());
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    o.main = std::move(*s);
    return o;
}

std::unique_ptr<SpanStore> span_store(const testing::TestDb& db) {
    auto s = open_span_store(db.location(), 5000);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    return std::move(*s);
}

SpanClaim claim_one(SpanStore& s, const std::string& key, const std::string& who, int64_t now,
                    int64_t local = 0, bool expired = false) {
    auto r = s.claim({{key, local, expired, {}}}, who, now, /*idle_ms=*/200, /*lease_ms=*/500);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    REQUIRE(r->size() == 1);
    return std::move(r->front());
}

}  // namespace

TEST_CASE_TEMPLATE("span claims: stored, taken, busy, claimed with every worker's rows", B,
                   testing::SqliteBackend, testing::PostgresBackend) {
    Opened o = open_migrated<B>();
    auto a = span_store(*o.db);  // worker A's connection
    auto b = span_store(*o.db);  // worker B's
    // Trace t: the root at A, two children at B.
    REQUIRE(a->put({{"t", "root", 1000, "r"}}).ok());
    REQUIRE(b->put({{"t", "c1", 1050, "c1"}, {"t", "c2", 1100, "c2"}}).ok());

    // A span of it arrived 100 ms ago (idle_ms 200): wait, with every row.
    SpanClaim busy = claim_one(*a, "t", "A", 1200, 1);
    CHECK(busy.outcome == SpanClaimOutcome::busy);
    CHECK(busy.stored_spans == 3);
    CHECK(busy.rows.size() == 3);
    CHECK(o.db->value("SELECT count(*) FROM otlp_claims") == 0);
    // Expired (max trace age): claimed even though not idle.
    SpanClaim forced = claim_one(*b, "t", "B", 1200, 2, true);
    CHECK(forced.outcome == SpanClaimOutcome::claimed);
    REQUIRE(forced.rows.size() == 3);
    CHECK(forced.rows[0].span_id == "root");  // by arrival
    CHECK(forced.rows[2].span_id == "c2");
    // A live claim holds it for everyone, its holder too.
    CHECK(claim_one(*a, "t", "A", 1400, 1).outcome == SpanClaimOutcome::taken);
    CHECK(claim_one(*b, "t", "B", 1400, 3).outcome == SpanClaimOutcome::taken);

    // Idle, holding all its rows: claimed, no rows read back.
    REQUIRE(a->put({{"u", "root", 1000, "r"}}).ok());
    SpanClaim mine = claim_one(*a, "u", "A", 1300, 1);
    CHECK(mine.outcome == SpanClaimOutcome::claimed);
    CHECK(mine.stored_spans == 1);
    CHECK(mine.rows.empty());
    CHECK(o.db->value(
              "SELECT count(*) FROM otlp_claims WHERE claimant = 'A' AND until_ms = 1800") == 1);

    // Already stored: dropped, whoever asks, even past any lease.
    auto t = parse_trace(std::string_view(R"({"trace_id":"s","input":"q","output":"a"})"), {}, 5);
    REQUIRE(t.ok());
    WriteBatch wb;
    wb.traces.push_back(*t);
    REQUIRE(o.main->write(wb).ok());
    REQUIRE(b->put({{"s", "late", 1000, "x"}}).ok());
    SpanClaim stored = claim_one(*b, "s", "B", 5000, 0, true);
    CHECK(stored.outcome == SpanClaimOutcome::stored);
    CHECK(stored.rows.empty());

    // erase() ends the claims with the rows.
    REQUIRE(a->erase({"t", "u", "s"}).ok());
    CHECK(o.db->value("SELECT count(*) FROM otlp_claims") == 0);
    CHECK(o.db->value("SELECT count(*) FROM otlp_spans") == 0);
}

TEST_CASE_TEMPLATE("span claims: a row of several spans counts each of them", B,
                   testing::SqliteBackend, testing::PostgresBackend) {
    Opened o = open_migrated<B>();
    auto a = span_store(*o.db);
    auto b = span_store(*o.db);
    // Trace t: the root and a child in one row at A (one request), a third
    // span at B.
    REQUIRE(a->put({{"t", "groupkey", 1000, "root+c1", 2}}).ok());
    REQUIRE(b->put({{"t", "c2", 1050, "c2"}}).ok());
    CHECK(*a->count() == 3);
    CHECK(o.db->value("SELECT count(*) FROM otlp_spans") == 2);
    // A holds two of the three: claimed with every row (B's too).
    SpanClaim c = claim_one(*a, "t", "A", 2000, 2);
    CHECK(c.outcome == SpanClaimOutcome::claimed);
    CHECK(c.stored_spans == 3);
    REQUIRE(c.rows.size() == 2);
    CHECK(c.rows[0].span_count == 2);
    CHECK(c.rows[0].span_json == "root+c1");
    CHECK(c.rows[1].span_count == 1);
    // Holding all three: no rows read back.
    REQUIRE(a->erase({"t"}).ok());
    REQUIRE(a->put({{"u", "groupkey", 1000, "all three", 3}}).ok());
    SpanClaim all = claim_one(*a, "u", "A", 2000, 3);
    CHECK(all.outcome == SpanClaimOutcome::claimed);
    CHECK(all.stored_spans == 3);
    CHECK(all.rows.empty());
    // A retry of the same row replaces it (and its count).
    REQUIRE(a->put({{"u", "groupkey", 1500, "all three, retried", 3}}).ok());
    auto rows = a->load();
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 1);
    CHECK((*rows)[0].span_count == 3);
    CHECK((*rows)[0].span_json == "all three, retried");
    CHECK(*a->count() == 3);
    REQUIRE(a->erase({"u"}).ok());
    CHECK(*a->count() == 0);
}

TEST_CASE_TEMPLATE("span claims: a stale lease is taken over; the sweep finds unheld traces", B,
                   testing::SqliteBackend, testing::PostgresBackend) {
    Opened o = open_migrated<B>();
    auto a = span_store(*o.db);
    auto b = span_store(*o.db);
    REQUIRE(a->put({{"t", "root", 1000, "r"}, {"t", "c", 1000, "c"}}).ok());
    REQUIRE(a->put({{"young", "root", 4000, "r"}}).ok());
    CHECK(claim_one(*a, "t", "A", 2000, 2).outcome == SpanClaimOutcome::claimed);  // until 2500

    // A died holding it: the sweep skips it while the lease lasts...
    auto live = b->stale_traces(/*first_before_ms=*/3000, /*now_ms=*/2400, 10);
    REQUIRE(live.ok());
    CHECK(live->empty());
    CHECK(claim_one(*b, "t", "B", 2400, 0, true).outcome == SpanClaimOutcome::taken);
    // ...and finds it once it ran out; B takes it over with every row.
    auto stale = b->stale_traces(3000, 2600, 10);
    REQUIRE(stale.ok());
    REQUIRE(stale->size() == 1);
    CHECK(stale->front() == "t");
    SpanClaim over = claim_one(*b, "t", "B", 2600, 0, true);
    CHECK(over.outcome == SpanClaimOutcome::claimed);
    CHECK(over.rows.size() == 2);
    CHECK(o.db->value(
              "SELECT count(*) FROM otlp_claims WHERE claimant = 'B' AND until_ms = 3100") == 1);
    auto none = b->stale_traces(3000, 2700, 10);
    REQUIRE(none.ok());
    CHECK(none->empty());  // B's claim is live; "young" is not old enough
}

TEST_CASE_TEMPLATE("span claims: two workers racing for the same traces claim each once", B,
                   testing::SqliteBackend, testing::PostgresBackend) {
    Opened o = open_migrated<B>();
    constexpr int k_traces = 200;
    std::vector<PendingSpanRow> rows;
    for (int i = 0; i < k_traces; ++i) {
        rows.push_back({"t" + std::to_string(i), "s", 1000, "{}"});
    }
    {
        auto s = span_store(*o.db);
        REQUIRE(s->put(rows).ok());
    }
    // Each worker asks for every trace, one small batch at a time, in
    // opposite orders, on its own connection.
    auto race = [&](const std::string& who, bool reverse, int& won, int& errors) {
        auto s = open_span_store(o.db->location(), 20000);
        if (!s.ok()) {
            ++errors;
            return;
        }
        for (int n = 0; n < k_traces; n += 4) {
            std::vector<SpanClaimAsk> asks;
            for (int k = n; k < n + 4; ++k) {
                const int i = reverse ? k_traces - 1 - k : k;
                asks.push_back({"t" + std::to_string(i), 1, false, {}});
            }
            auto r = (*s)->claim(asks, who, 5000, 200, 60000);
            if (!r.ok()) {
                ++errors;
                continue;
            }
            for (const SpanClaim& c : *r) {
                won += c.outcome == SpanClaimOutcome::claimed ? 1 : 0;
            }
        }
    };
    int won_a = 0, won_b = 0, err_a = 0, err_b = 0;
    std::thread ta([&] { race("A", false, won_a, err_a); });
    std::thread tb([&] { race("B", true, won_b, err_b); });
    ta.join();
    tb.join();
    CHECK(err_a == 0);
    CHECK(err_b == 0);
    // Each trace claimed by exactly one of them (however the threads ran).
    CHECK(won_a + won_b == k_traces);
    CHECK(o.db->value("SELECT count(*) FROM otlp_claims") == k_traces);
    CHECK(o.db->value("SELECT count(*) FROM otlp_claims WHERE claimant = 'A'") == won_a);
}
