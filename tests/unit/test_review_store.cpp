// The review store on both backends (a real SQLite file, a real PostgreSQL
// database; store_backends.h): filters, pagination, labels, calibration
// pairs, trends, judge details, and export; and the gate marks.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "core/time_format.h"
#include "core/trace_json.h"
#include "review/access.h"
#include "review/calibration_queue.h"
#include "review/dataset_export.h"
#include "review/views.h"
#include "store/gate_mark_store.h"
#include "store/review_store.h"
#include "store/store.h"
#include "store_backends.h"

using namespace assay;
using assay::testing::PostgresBackend;
using assay::testing::SqliteBackend;
using assay::testing::TestDb;

namespace {

// 20 traces: t00..t19, feature chat (even) / rag (odd), one per day from
// 2026-11-01; refusal scores value = i/20, passed = i >= 5.
// Returns the store's location.
std::string make_store(const TestDb& db) {
    auto s = open_store(db.options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers(
                    {{"refusal", "1.aaaa", "refusal", "{}"}, {"length", "1.bbbb", "length", "{}"}})
                .ok());
    WriteBatch b;
    for (int i = 0; i < 20; ++i) {
        char id[8];
        std::snprintf(id, sizeof id, "t%02d", i);
        std::string day = std::to_string(1 + i);
        if (day.size() == 1) {
            day = "0" + day;
        }
        std::string meta = i == 3 ? R"(,"expected_refusal":true)" : "";
        auto t = parse_trace(
            std::string(R"({"trace_id":")") + id + R"(","timestamp":"2026-11-)" + day +
                R"(T10:00:00Z","input":[{"role":"user","content":"q)" + std::to_string(i) +
                R"("}],"output":"<script>alert(1)</script>","context":["doc"],"metadata":{"feature":")" +
                (i % 2 ? "rag" : "chat") + R"(","tenant":"acme")" + meta + "}}",
            {}, 5);
        REQUIRE(t.ok());
        b.traces.push_back(*t);
        ScoreRow r;
        r.trace_id = id;
        r.scorer = "refusal";
        r.scorer_version = "1.aaaa";
        r.decision = Decision::scored;
        r.score =
            Score{i / 20.0, i >= 5, i >= 5 ? "answer" : "refusal", "why " + std::to_string(i)};
        r.at_ms = 1;
        r.batch_index = i;
        b.scores.push_back(r);
        ScoreRow skipped = r;
        skipped.scorer = "length";
        skipped.scorer_version = "1.bbbb";
        skipped.decision = Decision::filtered_out;
        skipped.score.reset();
        skipped.reason = "metadata.feature is 'rag'";
        b.scores.push_back(skipped);
    }
    REQUIRE((*s)->write(b).ok());
    return db.location();
}

}  // namespace

TEST_CASE_TEMPLATE("review store: filtered bottom list with total, pagination and sorting", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    auto rs = open_review_store(path);
    REQUIRE(rs.ok());
    auto& store = **rs;
    ReviewFilter f;
    f.scorer = "refusal";
    auto all = store.list(f, ReviewSort::bottom, 0, 3);
    REQUIRE(all.ok());
    CHECK(all->total == 20);
    CHECK(all->scorer_version == "1.aaaa");
    REQUIRE(all->rows.size() == 3);
    CHECK(all->rows[0].trace_id == "t00");  // failures first, lowest value first
    CHECK(all->rows[2].trace_id == "t02");
    auto page2 = store.list(f, ReviewSort::bottom, 3, 3);
    CHECK(page2->rows[0].trace_id == "t03");
    auto top = store.list(f, ReviewSort::top, 0, 1);
    CHECK(top->rows[0].trace_id == "t19");
    auto newest = store.list(f, ReviewSort::newest, 0, 1);
    CHECK(newest->rows[0].trace_id == "t19");

    f.feature = "rag";
    f.passed = false;
    auto rag = store.list(f, ReviewSort::bottom, 0, 50);
    CHECK(rag->total == 2);  // t01, t03
    CHECK(rag->rows.size() == 2);
    f.feature.clear();
    f.passed.reset();
    f.since_ms = *parse_rfc3339_ms("2026-11-10T00:00:00Z");
    f.until_ms = *parse_rfc3339_ms("2026-11-12T00:00:00Z");
    auto range = store.list(f, ReviewSort::oldest, 0, 50);
    REQUIRE(range->rows.size() == 2);
    CHECK(range->rows[0].trace_id == "t09");

    ReviewFilter missing;
    missing.scorer = "nope";
    CHECK(store.list(missing, ReviewSort::bottom, 0, 5).status().code() == StatusCode::not_found);

    // Trace filters by score (PostgreSQL: total and page in one pass from the
    // trace side, counted again only for a page past the end): totals, pages,
    // the end, time alone.
    auto ids = [](const ReviewList& l) {
        std::string out;
        for (const auto& r : l.rows) {
            out += (out.empty() ? "" : " ") + r.trace_id;
        }
        return out;
    };
    ReviewFilter g;
    g.scorer = "refusal";
    g.feature = "rag";
    auto first = store.list(g, ReviewSort::bottom, 0, 3);
    REQUIRE(first.ok());
    CHECK(first->total == 10);
    CHECK(ids(*first) == "t01 t03 t05");  // failures, then passes, lowest value first
    auto last = store.list(g, ReviewSort::bottom, 9, 3);
    CHECK(last->total == 10);
    CHECK(ids(*last) == "t19");
    auto past = store.list(g, ReviewSort::bottom, 10, 3);
    CHECK(past->total == 10);
    CHECK(past->rows.empty());
    auto none = store.list(g, ReviewSort::bottom, 0, 0);
    CHECK(none->total == 10);
    CHECK(none->rows.empty());
    CHECK(ids(*store.list(g, ReviewSort::top, 0, 2)) == "t19 t17");
    g.tenant = "other";
    auto nobody = store.list(g, ReviewSort::bottom, 0, 3);
    CHECK(nobody->total == 0);
    CHECK(nobody->rows.empty());
    g.tenant = "acme";
    REQUIRE(store.add_label({"t01", "refusal", "", "ana", "agree", std::nullopt, "", 1}).ok());
    g.labelled = false;
    auto unlabelled = store.list(g, ReviewSort::bottom, 0, 1);
    CHECK(unlabelled->total == 9);
    CHECK(ids(*unlabelled) == "t03");
    g.labelled = true;
    auto labelled = store.list(g, ReviewSort::bottom, 0, 5);
    CHECK(labelled->total == 1);
    CHECK(ids(*labelled) == "t01");

    // f: the time range alone
    auto by_score = store.list(f, ReviewSort::bottom, 0, 50);
    CHECK(by_score->total == 2);
    CHECK(ids(*by_score) == "t09 t10");
    f.passed = false;
    CHECK(store.list(f, ReviewSort::bottom, 0, 50)->total == 0);
}

TEST_CASE_TEMPLATE(
    "review store: labels are stored with scorer version and time; labelled filter; calibration "
    "pairs",
    B, SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    auto rs = open_review_store(path);
    REQUIRE(rs.ok());
    auto& store = **rs;
    NewLabel l{"t00", "refusal", "", "ana", "disagree", std::nullopt, "not a refusal <b>", 1234};
    auto id = store.add_label(l);
    REQUIRE(id.ok());
    CHECK(*id > 0);
    CHECK(store.add_label({"t01", "refusal", "", "ana", "score", 0.5, "", 1235}).ok());
    CHECK(store.add_label({"t01", "refusal", "", "ana", "maybe", std::nullopt, "", 1})
              .status()
              .code() == StatusCode::invalid_argument);
    CHECK(store.add_label({"t01", "refusal", "", "ana", "score", std::nullopt, "", 1})
              .status()
              .code() == StatusCode::invalid_argument);
    CHECK(
        store.add_label({"t01", "refusal", "", "", "agree", std::nullopt, "", 1}).status().code() ==
        StatusCode::invalid_argument);
    CHECK(store.add_label({"zz", "refusal", "", "ana", "agree", std::nullopt, "", 1})
              .status()
              .code() == StatusCode::not_found);

    ReviewFilter f;
    f.scorer = "refusal";
    f.labelled = false;
    auto un = store.list(f, ReviewSort::bottom, 0, 1);
    CHECK(un->total == 18);
    CHECK(un->rows[0].trace_id == "t02");  // the next unlabelled bottom trace
    f.labelled = true;
    CHECK(store.list(f, ReviewSort::bottom, 0, 5)->total == 2);

    auto d = store.trace("t00");
    REQUIRE(d.ok());
    REQUIRE(d->labels.size() == 1);
    CHECK(d->labels[0].scorer_version == "1.aaaa");
    CHECK(d->labels[0].at_ms == 1234);
    CHECK(d->labels[0].note == "not a refusal <b>");
    REQUIRE(d->decisions.size() == 2);
    bool saw_filtered = false;
    for (const auto& r : d->decisions) {
        if (r.scorer == "length") {
            saw_filtered = r.decision == "filtered_out" && r.reason == "metadata.feature is 'rag'";
        }
    }
    CHECK(saw_filtered);

    auto pairs = store.calibration_pairs("refusal", "");
    REQUIRE(pairs.ok());
    REQUIRE(pairs->size() == 2);
    CHECK((*pairs)[0].human.verdict == "disagree");
    CHECK((*pairs)[0].passed == false);
    CHECK(*(*pairs)[1].human.score == 0.5);

    // only labels were written: trace data unchanged
    CHECK(db->value("SELECT count(*) FROM labels") == 2);
}

TEST_CASE_TEMPLATE(
    "review calibration queue: random unlabelled traces, alternating between the scorer's "
    "verdicts",
    B, SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);  // refusal: t00..t04 fail, t05..t19 pass
    auto rs = open_review_store(path);
    REQUIRE(rs.ok());
    auto& store = **rs;
    REQUIRE(store.add_label({"t00", "refusal", "", "ana", "agree", std::nullopt, "", 1})
                .ok());  // bottom list
    auto strata = store.verdict_strata("refusal", "", true);
    REQUIRE(strata.ok());
    CHECK(strata->version == "1.aaaa");
    REQUIRE(strata->strata.size() == 2);
    CHECK(strata->strata[0].verdict == "fail");
    CHECK(strata->strata[0].scored == 5);
    CHECK(strata->strata[0].unlabelled == 4);
    CHECK(strata->strata[1].verdict == "pass");
    CHECK(strata->strata[1].scored == 15);
    CHECK(strata->strata[1].unlabelled == 15);
    CHECK(*store.unlabelled_trace("refusal", "", "fail", 0) == std::optional<std::string>("t01"));
    CHECK_FALSE(*store.unlabelled_trace("refusal", "", "fail", 4));
    CHECK(store.unlabelled_trace("refusal", "", "maybe", 0).status().code() ==
          StatusCode::invalid_argument);

    std::mt19937_64 rng(7);
    auto q = review::sample_calibration_queue(store, "refusal", "", 6, rng);
    REQUIRE(q.ok());
    REQUIRE(q->items.size() == 6);
    std::set<std::string> ids;
    for (size_t i = 0; i < q->items.size(); ++i) {
        const auto& it = q->items[i];
        CHECK(it.verdict == (i % 2 == 0 ? "fail" : "pass"));  // alternates, failures first on a tie
        const int n = std::stoi(it.trace_id.substr(1));
        CHECK((n < 5) == (it.verdict == "fail"));  // the scorer's verdict of that trace
        CHECK(it.trace_id != "t00");               // never a labelled trace
        ids.insert(it.trace_id);
    }
    CHECK(ids.size() == 6);
    // Labels from the queue keep their source, and steer the next pick to the verdict with fewer.
    NewLabel from_queue{q->items[0].trace_id, "refusal", "", "bo", "agree", std::nullopt, "", 2};
    from_queue.source = "calibration";
    REQUIRE(store.add_label(from_queue).ok());
    from_queue.trace_id = q->items[2].trace_id;
    REQUIRE(store.add_label(from_queue).ok());
    from_queue.source = "elsewhere";
    CHECK(store.add_label(from_queue).status().code() == StatusCode::invalid_argument);
    auto next = review::sample_calibration_queue(store, "refusal", "", 1, rng);
    REQUIRE(next.ok());
    REQUIRE(next->items.size() == 1);
    CHECK(next->items[0].verdict == "pass");
    CHECK(next->strata[0].queue_labels == 2);
    auto pairs = store.calibration_pairs("refusal", "");
    REQUIRE(pairs->size() == 3);
    CHECK((*pairs)[0].human.source == "review");
    CHECK((*pairs)[1].human.source == "calibration");
    CHECK(store.trace(q->items[0].trace_id)->labels[0].source == "calibration");
    // Asking for more than there is: every unlabelled trace once, then it stops.
    auto all = review::sample_calibration_queue(store, "refusal", "", 100, rng);
    REQUIRE(all.ok());
    CHECK(all->items.size() == 17);
    CHECK(review::sample_calibration_queue(store, "nope", "", 1, rng).status().code() ==
          StatusCode::not_found);
}

TEST_CASE_TEMPLATE("review store: a scorer without scores says why: its judge's pending work", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    {
        auto s = open_store(db->options());
        REQUIRE(s.ok());
        REQUIRE((*s)->register_scorers({{"helpfulness", "1.cccc", "judge", "{}"}}).ok());
    }
    REQUIRE(db->value("SELECT count(*) FROM scorer_versions WHERE scorer = 'helpfulness'") == 1);
    auto rs = open_review_store(path);
    REQUIRE(rs.ok());
    // Two traces wait for the judge (as the pipeline leaves them when the judge is disabled).
    for (const char* t : {"t01", "t02"}) {
        auto st =
            db->value(std::string("INSERT INTO judge_queue (trace, scorer_version, enqueued_ms, "
                                  "attempts) SELECT t.id, v.id, 1, 0 "
                                  "FROM traces t, scorer_versions v WHERE t.trace_id = '") +
                      t + "' AND v.scorer = 'helpfulness' RETURNING 1");
        CHECK(st == 1);
    }
    auto list = (*rs)->scorers();
    REQUIRE(list.ok());
    std::map<std::string, ScorerSummary> by;
    for (const auto& v : *list) {
        by[v.scorer] = v;
    }
    CHECK(by["refusal"].has_scores);
    CHECK(review::why_no_scores(by["refusal"]).empty());
    CHECK_FALSE(by["helpfulness"].has_scores);
    CHECK(by["helpfulness"].pending == 2);
    CHECK(by["helpfulness"].judge_calls == 0);
    const std::string why = review::why_no_scores(by["helpfulness"]);
    CHECK(why.find("2 traces are waiting for its LLM judge") != std::string::npos);
    CHECK(why.find("disabled or not configured") != std::string::npos);
    CHECK(review::scorer_json(by["helpfulness"])["why_none"] == why);
}

TEST_CASE_TEMPLATE("review store: judge details from the judgements table", B, SqliteBackend,
                   PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    // One judgement of refusal for t00 (the columns both schemas share).
    REQUIRE(db->value(
                "INSERT INTO judgements (trace, scorer_version, judge, model, rubric, "
                "rubric_version, rubric_hash, score, passed, choice, reasoning, input_tokens, "
                "output_tokens, cost_usd, latency_ms, attempts, cached, at_ms) SELECT t.id, v.id, "
                "'j1', 'gpt-x', 'helpfulness', '2', 'abc', 0.1, 0, 'bad', 'the answer dodges', "
                "100, 20, 0.001, 800, 1, 0, 9 FROM traces t, scorer_versions v WHERE t.trace_id "
                "= 't00' AND v.scorer = 'refusal' RETURNING 1") == 1);
    auto rs = open_review_store(path);
    REQUIRE(rs.ok());
    ReviewFilter f;
    f.scorer = "refusal";
    auto l = (*rs)->list(f, ReviewSort::bottom, 0, 1);
    REQUIRE(l.ok());
    CHECK(l->rows[0].judge_reasoning == "the answer dodges");
    auto d = (*rs)->trace("t00");
    REQUIRE(d.ok());
    const DecisionRecord* r = nullptr;
    for (const auto& x : d->decisions) {
        if (x.scorer == "refusal") {
            r = &x;
        }
    }
    REQUIRE(r);
    REQUIRE(r->judgements.size() == 1);
    CHECK(r->judgements[0].model == "gpt-x");
    CHECK(r->judgements[0].rubric == "helpfulness");
    CHECK(r->judgements[0].cost_usd == doctest::Approx(0.001));
}

TEST_CASE_TEMPLATE("review export: labels become expectations", B, SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    auto rs = open_review_store(path);
    REQUIRE(rs.ok());
    auto& store = **rs;
    REQUIRE(store
                .add_label({"t00", "refusal", "", "ana", "agree", std::nullopt,
                            "refused a fine request", 1})
                .ok());
    REQUIRE(store.add_label({"t03", "refusal", "", "ana", "agree", std::nullopt, "", 2}).ok());
    REQUIRE(store
                .add_label(
                    {"t07", "refusal", "", "bo", "disagree", std::nullopt, "this is a refusal", 3})
                .ok());
    REQUIRE(store.add_label({"t08", "refusal", "", "bo", "score", 0.8, "", 4}).ok());
    ReviewFilter f;
    f.scorer = "refusal";
    auto cases = review::export_cases(store, f, 3, {});
    REQUIRE(cases.ok());
    REQUIRE(cases->size() == 3);
    const auto& c0 = (*cases)[0];
    CHECK(c0["id"] == "t00");
    CHECK(c0["input"][0]["content"] == "q0");
    CHECK(c0["context"][0] == "doc");
    CHECK(c0["metadata"]["feature"] == "chat");
    CHECK(c0["metadata"]["review"]["note"] == "refused a fine request");
    CHECK(c0["expect"]["refusal"] == false);
    CHECK_FALSE((*cases)[1].contains("expect"));  // t01: no label
    auto picked = review::export_cases(store, f, 1, {"t03", "t07", "t08"});
    REQUIRE(picked.ok());
    REQUIRE(picked->size() == 3);
    CHECK((*picked)[0]["expect"]["refusal"] == true);  // metadata.expected_refusal
    CHECK((*picked)[1]["expect"]["refusal"] ==
          false);  // disagree with a pass: the answer was a refusal
    CHECK((*picked)[2]["expect"]["min_score"]["refusal"] == 0.8);
    CHECK(review::export_cases(store, f, 1, {"nope"}).status().code() == StatusCode::not_found);
}

TEST_CASE("review access: loopback policy, bearer, cookies, CSRF") {
    using namespace assay::review;
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.3.2.1"));
    CHECK(is_loopback_host("::1"));
    CHECK(is_loopback_host("localhost"));
    CHECK_FALSE(is_loopback_host("0.0.0.0"));
    CHECK_FALSE(is_loopback_host("127.0.0.1.evil.com"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
    CHECK(check_listen_policy("0.0.0.0", "").message().find("--token") != std::string::npos);
    const std::string tok = "s3cret-s3cret-16";
    CHECK(check_listen_policy("0.0.0.0", tok).ok());
    CHECK(check_listen_policy("127.0.0.1", "").ok());
    // A short token: the message names its length and the minimum, not the token.
    const std::string short_msg = check_listen_policy("127.0.0.1", "s3cret-s3cret-1").message();
    CHECK(short_msg.find("15 characters") != std::string::npos);
    CHECK(short_msg.find("at least 16") != std::string::npos);
    CHECK(short_msg.find("s3cret") == std::string::npos);
    CHECK(*cookie_value("a=1; assay_csrf=xyz; b=2", "assay_csrf") == "xyz");
    CHECK_FALSE(cookie_value("a=1", "assay_csrf"));

    using V = AccessControl::Verdict;
    AccessControl open(AccessOptions{});
    CHECK(open.authenticate("", "", "127.0.0.1", 0).verdict == V::allowed);
    CHECK(open.host_ok("127.0.0.1:8700"));
    CHECK(open.host_ok("localhost:8700"));
    CHECK_FALSE(open.host_ok("evil.example:8700"));
    CHECK(open.csrf_ok("", "assay_csrf=abc", "abc", "", "127.0.0.1:1").ok());
    CHECK(open.csrf_ok("", "assay_csrf=abc", "abc", "http://127.0.0.1:1", "127.0.0.1:1").ok());
    CHECK_FALSE(open.csrf_ok("", "assay_csrf=abc", "abd", "", "127.0.0.1:1").ok());
    CHECK_FALSE(open.csrf_ok("", "assay_csrf=abc", "", "", "127.0.0.1:1").ok());
    CHECK_FALSE(
        open.csrf_ok("", "assay_csrf=abc", "abc", "http://evil.example", "127.0.0.1:1").ok());
    CHECK(open.cookie_attributes() == "; Path=/; SameSite=Strict");

    AccessOptions o;
    o.token = tok;
    AccessControl locked(o);
    CHECK(locked.authenticate("", "", "a", 0).verdict == V::denied);
    CHECK(locked.authenticate("Bearer " + tok, "", "a", 0).verdict == V::allowed);
    CHECK(locked.authenticate("Bearer s3cre", "", "a", 0).verdict == V::denied);
    CHECK(locked.login("wrong", "a", 0).verdict == V::denied);
    auto in = locked.login(tok, "a", 0);
    REQUIRE(in.verdict == V::allowed);
    CHECK(locked.authenticate("", "assay_session=" + in.session, "b", 1).verdict == V::allowed);
    CHECK(locked.authenticate("", "assay_session=forged", "b", 1).verdict == V::denied);
    CHECK(locked.csrf_ok("Bearer " + tok, "", "", "", "h").ok());  // scripts with the header
    // Session expiry (12 h by default) and logout.
    CHECK(locked.authenticate("", "assay_session=" + in.session, "b", 12 * 3600 * 1000).verdict ==
          V::denied);
    auto again = locked.login(tok, "a", 0);
    locked.logout("assay_session=" + again.session);
    CHECK(locked.authenticate("", "assay_session=" + again.session, "b", 1).verdict == V::denied);
    // Failed logins: 5 free, then 429 for the address, whatever it sends.
    for (int i = 0; i < 6; ++i) {
        CHECK(locked.login("wrong", "c", 100).verdict == V::denied);
    }
    auto t = locked.login(tok, "c", 100);
    CHECK(t.verdict == V::throttled);
    CHECK(t.retry_after_s == 1);
    CHECK(locked.authenticate("Bearer " + tok, "", "c", 100).verdict == V::throttled);
    CHECK(locked.login(tok, "d", 100).verdict == V::allowed);   // other addresses are not
    CHECK(locked.login(tok, "c", 1100).verdict == V::allowed);  // the lock ended

    // Behind https://review.example.com/assay: that origin only, Secure cookies under the prefix.
    o.public_url = parse_public_url("https://review.example.com/assay").value();
    AccessControl proxied(o);
    CHECK(proxied.prefix() == "/assay");
    CHECK(proxied.cookie_attributes() == "; Path=/assay; SameSite=Strict; Secure");
    CHECK(proxied.origin_ok("https://review.example.com", "127.0.0.1:8700").ok());
    CHECK(proxied.origin_ok("", "127.0.0.1:8700").ok());
    CHECK_FALSE(proxied.origin_ok("http://127.0.0.1:8700", "127.0.0.1:8700").ok());
    CHECK_FALSE(proxied.origin_ok("https://evil.example", "127.0.0.1:8700").ok());
    CHECK(proxied.csrf_ok("", "assay_csrf=abc", "abc", "https://review.example.com", "x").ok());
    CHECK_FALSE(proxied.csrf_ok("", "assay_csrf=abc", "abc", "http://x", "x").ok());
}

TEST_CASE_TEMPLATE("review store: daily trend points per feature over the last N days", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    auto rs = open_review_store(path);
    REQUIRE(rs.ok());
    // Traces are on 2026-11-01 .. 2026-11-20; the last 7 days are 11-14 .. 11-20.
    auto pts = (*rs)->trends("refusal", "", 7);
    REQUIRE(pts.ok());
    REQUIRE(pts->size() == 7);
    CHECK((*pts)[0].feature == "chat");
    CHECK((*pts)[0].day == "2026-11-15");  // t14
    CHECK((*pts)[0].n == 1);
    CHECK((*pts)[0].mean == doctest::Approx(0.7));
    CHECK(*(*pts)[0].pass_rate == doctest::Approx(1.0));
    CHECK((*pts)[3].feature == "rag");
    CHECK((*pts)[3].day == "2026-11-14");  // t13
    CHECK((*pts)[6].day == "2026-11-20");
    CHECK((*rs)->trends("nope", "", 7).status().code() == StatusCode::not_found);
}

TEST_CASE("review store: a PostgreSQL URI opens the PostgreSQL backend, its password never shown") {
    // A password in the URI is refused before any connection, the URI masked.
    auto r = open_review_store("postgresql://ana:hunter2@127.0.0.1:1/assay");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::invalid_argument);
    CHECK(r.status().message().find("hunter2") == std::string::npos);
    CHECK(r.status().message().find("ana:***@127.0.0.1:1/assay") != std::string::npos);
    CHECK(r.status().message().find("PGPASSWORD") != std::string::npos);
    // No server there: unavailable, naming where (never a SQLite file of that name).
    auto down = open_review_store("postgresql://ana@127.0.0.1:1/assay?connect_timeout=2");
    REQUIRE_FALSE(down.ok());
    CHECK(down.status().code() == StatusCode::unavailable);
    CHECK(down.status().message().find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE_TEMPLATE(
    "gate mark store: one mark per gate run x case, the latest wins; bad marks refused", B,
    SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    auto gm = open_gate_mark_store(path);
    REQUIRE(gm.ok());
    auto& store = **gm;
    CHECK(store.set_gate_mark({"run-a", "case-1", "noise", "", "ana", 10}).ok());
    CHECK(store.set_gate_mark({"run-a", "case-1", "real", "a <b>real</b> miss", "bo", 20}).ok());
    CHECK(store.set_gate_mark({"run-a", "case-2", "noise", "", "ana", 30}).ok());
    CHECK(store.set_gate_mark({"run-b", "case-1", "noise", "", "ana", 40}).ok());
    for (const GateMark& bad : {GateMark{"run-a", "case-3", "maybe", "", "ana", 1},
                                GateMark{"run-a", "case-3", "real", "", "", 1},
                                GateMark{"", "case-3", "real", "", "ana", 1},
                                GateMark{"run-a", "", "real", "", "ana", 1}}) {
        CHECK(store.set_gate_mark(bad).code() == StatusCode::invalid_argument);
    }
    auto a = store.gate_marks("run-a");
    REQUIRE(a.ok());
    REQUIRE(a->size() == 2);
    CHECK((*a)[0].case_id == "case-1");
    CHECK((*a)[0].mark == "real");
    CHECK((*a)[0].note == "a <b>real</b> miss");
    CHECK((*a)[0].reviewer == "bo");
    CHECK((*a)[0].at_ms == 20);
    CHECK((*a)[1].case_id == "case-2");
    CHECK((*a)[1].mark == "noise");
    CHECK(store.gate_marks("run-b")->size() == 1);
    CHECK(store.gate_marks("run-c")->empty());
    CHECK(db->value("SELECT count(*) FROM gate_marks") == 3);
}

TEST_CASE_TEMPLATE(
    "gate mark store: review servers marking the same cases at once keep one mark per case", B,
    SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto path = make_store(*db);
    // Three review servers (own connections) mark the same 40 cases at once.
    std::vector<std::thread> servers;
    std::atomic<int> failed{0};
    for (int s = 0; s < 3; ++s) {
        servers.emplace_back([&, s] {
            auto gm = open_gate_mark_store(path);
            if (!gm.ok()) {
                ++failed;
                return;
            }
            for (int c = 0; c < 40; ++c) {
                const GateMark m{"run-x", "case-" + std::to_string(c),     s % 2 ? "real" : "noise",
                                 "",      "reviewer-" + std::to_string(s), 100 + s};
                failed += (*gm)->set_gate_mark(m).ok() ? 0 : 1;
            }
        });
    }
    for (auto& t : servers) {
        t.join();
    }
    CHECK(failed == 0);
    CHECK(db->value("SELECT count(*) FROM gate_marks") == 40);
    auto marks = (*open_gate_mark_store(path))->gate_marks("run-x");
    REQUIRE(marks.ok());
    CHECK(marks->size() == 40);
    CHECK(marks->front().case_id == "case-0");  // byte order: case-0, case-1, case-10, ...
    CHECK((*marks)[2].case_id == "case-10");
}
