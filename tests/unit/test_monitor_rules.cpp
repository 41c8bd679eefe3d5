#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "config/config.h"
#include "core/time_format.h"
#include "monitor/alert_manager.h"
#include "monitor/quality_metrics.h"
#include "monitor/report.h"
#include "monitor/rule_eval.h"
#include "store/aggregate_store.h"
#include "store/alert_store.h"
#include "store/maintenance_store.h"
#include "store/span_store.h"
#include "store/store.h"
#include "store_backends.h"

using namespace assay;

namespace {

constexpr int64_t k_day = 86400000;
// 2026-11-01T00:00:00Z
constexpr int64_t k_t0 = 1793491200000LL;

// A real store (SQLite file or PostgreSQL database: B of store_backends.h)
// filled with scored traces through the Store's write path. Rows are
// buffered and written in batches; flush(), path(), scalar() and traffic()
// write them.
template <typename B = testing::SqliteBackend>
class Fixture {
public:
    Fixture() : m_db(B::make()) {
        auto s = open_store(m_db->options());
        REQUIRE_MESSAGE(s.ok(), s.status().message());
        m_store = std::move(s.value());
        REQUIRE(m_store
                    ->register_scorers(
                        {{"quality", "1.a", "test", "{}"}, {"json", "1.b", "format", "{}"}})
                    .ok());
    }
    // One trace with a `quality` score `value` and a `json` pass/fail.
    void add(int64_t ts, const std::string& feature, const std::string& pv, double value,
             bool passed, const std::string& tenant = "t1", const std::string& user = "u1") {
        const std::string id = trace(ts, feature, pv, tenant, user,
                                     "{\"trace_id\":\"tr" + std::to_string(m_n) +
                                         "\",\"output\":\"" + std::string(200, 'x') + "\"}");
        Score q;
        q.value = value;
        Score j;
        j.value = passed ? 1.0 : 0.0;
        j.passed = passed;
        m_batch.scores.push_back({id, "quality", "1.a", Decision::scored, q, "", ts + 1000});
        m_batch.scores.push_back({id, "json", "1.b", Decision::scored, j, "", ts + 1000});
        if (m_batch.traces.size() >= 500) {
            flush();
        }
    }
    // One trace of `feature` whose scores all wait for a judge (decision 4 =
    // pending): seen, never scored.
    void add_pending(int64_t ts, const std::string& feature) {
        const std::string id = trace(ts, feature, "v1", "t1", "u1", "{}");
        for (const char* v : {"quality", "json"}) {
            m_batch.scores.push_back(
                {id, v, v[0] == 'q' ? "1.a" : "1.b", Decision::pending, std::nullopt, "", 1});
        }
    }
    int64_t scalar(const std::string& sql) {
        flush();
        return m_db->value(sql);
    }
    const std::string& path() {
        flush();
        return m_db->location();
    }
    void flush() {
        if (!m_batch.empty()) {
            Status st = m_store->write(m_batch);
            REQUIRE_MESSAGE(st.ok(), st.message());
            m_batch = WriteBatch();
        }
    }

private:
    std::string trace(int64_t ts, const std::string& feature, const std::string& pv,
                      const std::string& tenant, const std::string& user, std::string raw) {
        Trace t;
        t.trace_id = "tr" + std::to_string(m_n++);
        t.timestamp_ms = ts;
        t.received_ms = ts;
        t.metadata.feature = feature;
        t.metadata.tenant = tenant;
        t.metadata.user_id = user;
        t.metadata.prompt_version = pv;
        t.raw = std::move(raw);
        m_batch.traces.push_back(std::move(t));
        return m_batch.traces.back().trace_id;
    }
    std::unique_ptr<testing::TestDb> m_db;
    std::unique_ptr<Store> m_store;
    WriteBatch m_batch;
    int m_n = 0;
};

// `n` traces per day over [from_day, to_day) with quality ~ N(mean, 0.5).
template <typename F>
void traffic(F& f, int from_day, int to_day, int per_day, double mean, double pass_rate,
             const std::string& feature = "chat", const std::string& pv = "v1", unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> q(mean, 0.5);
    std::uniform_real_distribution<double> u(0, 1);
    for (int d = from_day; d < to_day; ++d) {
        for (int i = 0; i < per_day; ++i) {
            f.add(k_t0 + d * k_day + (i * 977 % 86400) * 1000, feature, pv, q(rng),
                  u(rng) < pass_rate);
        }
    }
    f.flush();  // stored before the caller refreshes anything
}

// A day of `chat` traffic plus one trace of feature "queued" whose scores all
// wait for a judge (seen, never scored); the aggregates refreshed.
template <typename F>
std::unique_ptr<AggregateStore> chat_and_queued(F& f, int per_day) {
    traffic(f, 0, 1, per_day, 4.0, 0.9, "chat", "v1", 3);
    f.add_pending(k_t0 + 3600000, "queued");
    auto agg = open_aggregate_store(f.path()).value();
    REQUIRE(agg->refresh().ok());
    return agg;
}

AlertRule drop_rule() {
    AlertRule r;
    r.name = "quality-drop";
    r.kind = RuleKind::score_drop;
    r.scorer = "quality";
    r.by = "feature";
    r.window_ms = 7 * k_day;
    r.drop = 0.5;
    r.min_count = 50;
    return r;
}

// json's pass rate per feature over a day, below 0.9 with at least 50 traces.
AlertRule json_rate_rule() {
    AlertRule r;
    r.name = "json-broken";
    r.kind = RuleKind::pass_rate_below;
    r.scorer = "json";
    r.by = "feature";
    r.window_ms = k_day;
    r.below = 0.9;
    r.min_count = 50;
    return r;
}

}  // namespace

TEST_CASE_TEMPLATE("monitor aggregates: refresh is idempotent and matches the scores", B,
                   testing::SqliteBackend, testing::PostgresBackend) {
    Fixture<B> f;
    traffic(f, 0, 3, 40, 4.0, 0.9);
    auto agg = open_aggregate_store(f.path()).value();
    REQUIRE(agg->refresh().ok());
    REQUIRE(agg->refresh().ok());
    REQUIRE(agg->refresh(0).ok());
    CHECK(
        f.scalar("SELECT sum(count) FROM aggregates WHERE bucket = 'day' AND scorer = 'quality'") ==
        120);
    CHECK(f.scalar(
              "SELECT sum(count) FROM aggregates WHERE bucket = 'hour' AND scorer = 'quality'") ==
          120);
    CHECK(f.scalar("SELECT sum(seen) FROM aggregates WHERE bucket = 'day'") == 240);
    CHECK(
        f.scalar("SELECT sum(passed) FROM aggregates WHERE bucket = 'day' AND scorer = 'json'") ==
        f.scalar("SELECT count(*) FROM scores s JOIN scorer_versions v ON v.id = s.scorer_version "
                 "WHERE v.scorer = 'json' AND s.passed = 1"));
    AggregateQuery q;
    q.from_ms = k_t0;
    q.to_ms = k_t0 + 3 * k_day;
    q.scorer = "quality";
    auto rows = agg->query(q).value();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].count == 120);
    CHECK(rows[0].mean() == doctest::Approx(4.0).epsilon(0.05));
    // Hour-aligned windows use hour buckets and give the same sums.
    q.from_ms += 3600000;
    q.to_ms += 3600000;
    auto shifted = agg->query(q).value();
    CHECK(shifted[0].count ==
          f.scalar("SELECT count(*) FROM traces WHERE ts_ms >= " + std::to_string(q.from_ms)));
    // New traces are picked up incrementally (the watermark moves on).
    traffic(f, 3, 4, 10, 4.0, 0.9);
    REQUIRE(agg->refresh().ok());
    CHECK(
        f.scalar("SELECT sum(count) FROM aggregates WHERE bucket = 'day' AND scorer = 'quality'") ==
        130);
    // No judge ran: the judgements table (judge migration) is there but empty.
    auto jw = agg->judge_window("", 0, k_t0 + 100 * k_day).value();
    CHECK(jw.table_present);
    CHECK(jw.calls == 0);
}

TEST_CASE("monitor rules: score_drop fires on a real drop, not on noise or on too few traces") {
    Fixture<> f;
    traffic(f, 0, 7, 20, 4.0, 0.95, "chat");              // previous week
    traffic(f, 7, 14, 20, 3.0, 0.95, "chat", "v1", 2);    // current week: down 1 point
    traffic(f, 0, 14, 20, 4.0, 0.95, "search", "v1", 3);  // stable
    traffic(f, 0, 7, 3, 4.0, 0.95, "rare", "v1", 4);      // too few
    traffic(f, 7, 14, 3, 1.0, 0.95, "rare", "v1", 5);
    auto agg = open_aggregate_store(f.path()).value();
    REQUIRE(agg->refresh().ok());
    auto findings = evaluate_rule(drop_rule(), *agg, k_t0 + 14 * k_day).value();
    REQUIRE(findings.size() == 3);
    std::map<std::string, Finding> by;
    for (auto& x : findings) {
        by[x.group_key] = x;
    }
    CHECK(by["feature=chat"].state == FindingState::firing);
    CHECK(by["feature=chat"].count == 140);
    CHECK(*by["feature=chat"].baseline - *by["feature=chat"].value ==
          doctest::Approx(1.0).epsilon(0.15));
    CHECK(*by["feature=chat"].p_value < 0.01);
    CHECK(by["feature=search"].state == FindingState::ok);
    CHECK(by["feature=rare"].state == FindingState::insufficient);

    // Against a pinned baseline mean.
    AlertRule pinned = drop_rule();
    pinned.by.clear();
    pinned.baseline_mean = 5.0;
    auto p = evaluate_rule(pinned, *agg, k_t0 + 14 * k_day).value();
    REQUIRE(p.size() == 1);
    CHECK(p[0].state == FindingState::firing);
    // A drop threshold larger than the drop does not fire.
    AlertRule big = drop_rule();
    big.drop = 1.5;
    auto big_findings = evaluate_rule(big, *agg, k_t0 + 14 * k_day).value();
    for (auto& x : big_findings) {
        CHECK(x.state != FindingState::firing);
    }
}

TEST_CASE("monitor rules: pass_rate_below and prompt_version_worse") {
    Fixture<> f;
    traffic(f, 0, 1, 200, 4.0, 0.80, "extract", "v3", 7);
    traffic(f, 0, 1, 200, 4.0, 0.97, "chat", "v1", 8);
    AlertRule r = json_rate_rule();
    auto agg = open_aggregate_store(f.path()).value();
    REQUIRE(agg->refresh().ok());
    auto fs = evaluate_rule(r, *agg, k_t0 + k_day).value();
    REQUIRE(fs.size() == 2);
    CHECK(fs[0].group_key == "feature=chat");
    CHECK(fs[0].state == FindingState::ok);
    CHECK(fs[1].group_key == "feature=extract");
    CHECK(fs[1].state == FindingState::firing);

    Fixture<> g;
    traffic(g, 0, 5, 30, 4.0, 0.9, "chat", "v7", 9);
    traffic(g, 5, 10, 30, 3.2, 0.9, "chat", "v8", 10);  // the new version is worse
    traffic(g, 0, 5, 30, 4.0, 0.9, "search", "v2", 11);
    traffic(g, 5, 10, 30, 4.05, 0.9, "search", "v3", 12);  // the new version is as good
    AlertRule pv;
    pv.name = "prompt-regression";
    pv.kind = RuleKind::prompt_version_worse;
    pv.scorer = "quality";
    pv.by = "feature";
    pv.window_ms = 14 * k_day;
    pv.min_count = 100;
    auto agg2 = open_aggregate_store(g.path()).value();
    REQUIRE(agg2->refresh().ok());
    auto ps = evaluate_rule(pv, *agg2, k_t0 + 10 * k_day).value();
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].group_key == "feature=chat prompt_version=v8");
    CHECK(ps[0].state == FindingState::firing);
    CHECK(ps[1].group_key == "feature=search prompt_version=v3");
    CHECK(ps[1].state == FindingState::ok);
}

TEST_CASE(
    "monitor rules: empty groups show n/a, not invented numbers (no pass rate 0.000, mean 0.000 or "
    "p=1 for n=0)") {
    Fixture<> f;
    auto agg = chat_and_queued(f, 60);
    AlertRule rate = json_rate_rule();
    std::map<std::string, Finding> by;
    auto rate_findings = evaluate_rule(rate, *agg, k_t0 + k_day).value();
    for (auto& x : rate_findings) {
        by[x.group_key] = x;
    }
    REQUIRE(by.count("feature=queued"));
    const Finding& q = by["feature=queued"];
    CHECK(q.count == 0);
    CHECK_FALSE(q.value);
    CHECK_FALSE(q.p_value);
    CHECK(q.state == FindingState::insufficient);
    CHECK(q.message.find("pass rate n/a") != std::string::npos);
    CHECK(q.message.find("p=n/a") != std::string::npos);
    CHECK(q.message.find("0.000") == std::string::npos);
    CHECK(by["feature=chat"].value);  // measured groups keep their figures
    CHECK(by["feature=chat"].p_value);

    AlertRule drop = drop_rule();
    drop.window_ms = k_day;
    by.clear();
    auto drop_findings = evaluate_rule(drop, *agg, k_t0 + k_day).value();
    for (auto& x : drop_findings) {
        by[x.group_key] = x;
    }
    REQUIRE(by.count("feature=queued"));
    CHECK_FALSE(by["feature=queued"].value);
    CHECK_FALSE(by["feature=queued"].baseline);  // no previous window at all
    CHECK(by["feature=queued"].message.find("mean n/a") != std::string::npos);
    CHECK(by["feature=queued"].message.find("0.000") == std::string::npos);
}

TEST_CASE(
    "monitor report: a group with nothing scored shows n/a for its mean (null in JSON), not "
    "0.000") {
    Fixture<> f;
    auto agg = chat_and_queued(f, 20);
    ReportOptions o;
    o.now_ms = k_t0 + k_day;
    o.period_ms = k_day;
    o.by = "feature";
    auto r = build_report(*agg, o).value();
    CHECK(empty_period_hint(r).empty());
    std::string queued_line;
    std::string table = render_report(r, "table");
    for (size_t at = 0, end = 0; at < table.size(); at = end + 1) {
        end = table.find('\n', at);
        std::string line = table.substr(at, end - at);
        if (line.find("quality") != std::string::npos && line.find("queued") != std::string::npos) {
            queued_line = line;
        }
    }
    REQUIRE_FALSE(queued_line.empty());
    CHECK(queued_line.find("n/a") != std::string::npos);
    CHECK(queued_line.find("0.000") == std::string::npos);
    auto j = nlohmann::json::parse(render_report(r, "json"));
    bool seen = false;
    for (const auto& row : j["rows"]) {
        if (row["group"] == "queued" && row["scorer"] == "quality") {
            seen = true;
            CHECK(row["count"] == 0);
            CHECK(row["mean"].is_null());
            CHECK(row["pass_rate"].is_null());
        }
    }
    CHECK(seen);
}

TEST_CASE("monitor report: an empty period names the range it read and where the store's data is") {
    Fixture<> f;
    traffic(f, 0, 2, 10, 4.0, 0.9, "chat", "v1", 3);  // 2026-11-01 and 2026-11-02
    auto agg = open_aggregate_store(f.path()).value();
    REQUIRE(agg->refresh().ok());
    ReportOptions o;
    o.now_ms = k_t0 + 30 * k_day;  // a week of 2026-11-24 .. 2026-12-01: nothing there
    auto r = build_report(*agg, o).value();
    const std::string hint = empty_period_hint(r);
    CHECK(hint.find("no scored traces in 2026-11-24T00:00:00.000Z .. 2026-12-01T00:00:00.000Z") !=
          std::string::npos);
    CHECK(hint.find("the store holds traces from 2026-11-01T00:00:00.000Z to 2026-11-02T") !=
          std::string::npos);
    CHECK(hint.find("--since 2d") != std::string::npos);
    CHECK(render_report(r, "table").find(hint) != std::string::npos);
    auto j = nlohmann::json::parse(render_report(r, "json"));
    CHECK(j["note"] == hint);
    CHECK(j["data_range"]["from"] == "2026-11-01T00:00:00.000Z");
    // The suggested flags do report on the data.
    const std::string now = hint.substr(hint.find("--now ") + 6, 24);
    o.now_ms = parse_rfc3339_ms(now).value();
    o.period_ms = 2 * k_day;
    auto again = build_report(*agg, o).value();
    CHECK_FALSE(again.rows.empty());
    CHECK(empty_period_hint(again).empty());
    // An empty store says so.
    Fixture<> empty;
    auto none = open_aggregate_store(empty.path()).value();
    REQUIRE(none->refresh().ok());
    auto e = build_report(*none, o).value();
    CHECK(empty_period_hint(e).find("the store holds no scored traces yet") != std::string::npos);
}

TEST_CASE_TEMPLATE(
    "monitor alerts: a continuing condition fires once and resolves once; cooldown holds "
    "re-fires",
    B, testing::SqliteBackend, testing::PostgresBackend) {
    Fixture<B> f;
    traffic(f, 0, 7, 20, 4.0, 0.95);
    traffic(f, 7, 14, 20, 3.0, 0.95, "chat", "v1", 2);
    auto agg = open_aggregate_store(f.path()).value();
    auto alerts = open_alert_store(f.path()).value();
    AlertsOptions o;
    o.rules = {drop_rule()};
    o.rules[0].cooldown_ms = 3 * k_day;
    AlertManager m(o, *agg, *alerts, nullptr);
    auto r1 = m.check(k_t0 + 14 * k_day).value();
    CHECK(r1.fired.size() == 1);
    auto r2 = m.check(k_t0 + 14 * k_day + 3600000).value();
    CHECK(r2.fired.empty());
    CHECK(r2.resolved.empty());
    CHECK(f.scalar("SELECT count(*) FROM alerts") == 1);
    CHECK(f.scalar("SELECT fire_delivered FROM alerts") == static_cast<int>(Delivery::no_webhook));
    // Recovery: a week back at 4.0 resolves the alert, once.
    traffic(f, 14, 21, 20, 4.0, 0.95, "chat", "v1", 3);
    auto r3 = m.check(k_t0 + 21 * k_day).value();
    CHECK(r3.resolved.size() == 1);
    auto r4 = m.check(k_t0 + 21 * k_day + 3600000).value();
    CHECK(r4.resolved.empty());
    CHECK(f.scalar("SELECT count(*) FROM alerts WHERE state = 'resolved'") == 1);
    // A new drop a week after the resolve: suppressed under a 10-day
    // cooldown, fired under the 3-day one.
    traffic(f, 21, 28, 20, 3.0, 0.95, "chat", "v1", 4);
    AlertsOptions long_cooldown = o;
    long_cooldown.rules[0].cooldown_ms = 10 * k_day;
    AlertManager m2(long_cooldown, *agg, *alerts, nullptr);
    auto r5 = m2.check(k_t0 + 28 * k_day).value();
    CHECK(r5.fired.empty());
    CHECK(r5.suppressed == 1);
    auto r6 = m.check(k_t0 + 28 * k_day).value();
    CHECK(r6.fired.size() == 1);
    CHECK(f.scalar("SELECT count(*) FROM alerts") == 2);
}

TEST_CASE_TEMPLATE(
    "monitor maintenance: retention stubs raw text; erasure leaves nothing of the tenant", B,
    testing::SqliteBackend, testing::PostgresBackend) {
    Fixture<B> f;
    traffic(f, 0, 2, 10, 4.0, 0.9);
    f.add(k_t0 + 5 * k_day, "chat", "v1", 4.0, true, "secret-tenant", "u9");
    auto agg = open_aggregate_store(f.path()).value();
    REQUIRE(agg->refresh().ok());
    auto maint = open_maintenance_store(f.path()).value();
    auto pr = maint->prune_raw(k_t0 + 3 * k_day, k_t0 + 10 * k_day).value();
    CHECK(pr.traces_pruned == 20);
    CHECK(maint->prune_raw(k_t0 + 3 * k_day, k_t0 + 10 * k_day).value().traces_pruned == 0);
    CHECK(f.scalar(
              "SELECT count(*) FROM traces WHERE raw LIKE '{\"raw_pruned\":true,\"trace_id\":%'") ==
          20);
    CHECK(f.scalar("SELECT count(*) FROM scores") == 42);
    // The stub is the same text on both backends.
    CHECK(
        f.scalar(
            "SELECT count(*) FROM traces WHERE raw = "
            "'{\"raw_pruned\":true,\"trace_id\":\"tr0\",\"timestamp\":\"2026-11-01T00:00:00.000Z\","
            "\"pruned_at\":\"2026-11-11T00:00:00.000Z\"}'") == 1);
    CHECK(f.scalar("SELECT count(*) FROM aggregates WHERE tenant = 'secret-tenant'") > 0);
    // Pending spans of an OTLP trace not complete yet: one span names the
    // tenant, so every span of that trace goes (a row of one span and a row
    // of two: counted as the three spans they hold); another trace's stays.
    auto spans = open_span_store(f.path(), 1000);
    REQUIRE_MESSAGE(spans.ok(), spans.status().message());
    REQUIRE(
        (*spans)
            ->put(
                {{"k1", "s1", 1,
                  R"({"attributes":[{"key":"tenant","value":{"stringValue":"secret-tenant"}}]})"},
                 {"k1", "g2", 1, R"({"name":"tool"},{"name":"llm"})", 2},
                 {"k2", "s3", 1,
                  R"({"attributes":[{"key":"tenant","value":{"stringValue":"secret-tenant-2"}}]})"}})
            .ok());
    auto er = maint->erase("tenant", "secret-tenant").value();
    CHECK(er.otlp_spans == 3);
    CHECK(f.scalar("SELECT count(*) FROM otlp_spans WHERE trace_key = 'k1'") == 0);
    CHECK(f.scalar("SELECT count(*) FROM otlp_spans WHERE trace_key = 'k2'") == 1);
    CHECK(er.traces == 1);
    CHECK(er.scores == 2);
    CHECK(er.aggregates > 0);
    CHECK(f.scalar("SELECT count(*) FROM aggregates WHERE tenant = 'secret-tenant'") == 0);
    CHECK(f.scalar("SELECT count(*) FROM traces WHERE tenant = 'secret-tenant'") == 0);
    CHECK_FALSE(maint->erase("tenant", "").ok());
}

TEST_CASE("monitor metrics: quality gauges per scorer and feature, bounded") {
    Fixture<> f;
    for (int i = 0; i < 5; ++i) {
        traffic(f, 0, 1, 10 + i, 4.0, 0.9, "f" + std::to_string(i), "v1",
                static_cast<unsigned>(20 + i));
    }
    auto agg = open_aggregate_store(f.path()).value();
    REQUIRE(agg->refresh().ok());
    MonitorOptions o;
    o.metrics_window_ms = k_day;
    o.max_metric_features = 3;
    // Half an hour before the day ends: the window is that whole day.
    auto text = render_quality_metrics(*agg, k_t0 + k_day - 1800000, o).value();
    CHECK(text.find("assay_quality_mean{scorer=\"quality\",feature=\"f4\"}") != std::string::npos);
    CHECK(text.find("assay_quality_mean{scorer=\"quality\",feature=\"f0\"}") == std::string::npos);
    CHECK(text.find("assay_quality_scored{scorer=\"quality\",feature=\"__other__\"} 21") !=
          std::string::npos);
    CHECK(text.find("assay_quality_pass_rate{scorer=\"json\",feature=\"f3\"}") !=
          std::string::npos);
    CHECK(text.find("tenant") == std::string::npos);
}

TEST_CASE("monitor config: alerts, retention and monitor keys are validated by name") {
    const std::string scorers = "scorers:\n  - {name: json, type: format, json: true}\n";
    auto load = [&](const std::string& extra) {
        return load_config_text(scorers + extra, "t.yaml", "/cfg", {}, {});
    };
    auto ok = load(R"(
alerts:
  interval: 5m
  webhook: {url: "http://127.0.0.1:9/hook", format: json}
  rules:
    - {name: json-broken, kind: pass_rate_below, scorer: json, by: feature, window: 1h, below: 0.9, min_count: 50}
    - {name: drop, kind: score_drop, scorer: json, window: 7d, drop: 0.1, baseline: {mean: 0.95}}
    - {name: pv, kind: prompt_version_worse, scorer: json, min_count: 100}
    - {name: spend, kind: spend_above, window: 1d, above_usd: 20}
retention: {raw_days: 30}
monitor: {metrics_window: 1h, max_metric_features: 20}
)");
    REQUIRE_MESSAGE(ok.ok(), ok.status().message());
    CHECK(ok->monitoring.alerts.rules.size() == 4);
    CHECK(ok->monitoring.alerts.rules[0].window_ms == 3600000);
    CHECK(ok->monitoring.alerts.rules[1].baseline_mean.value() == 0.95);
    CHECK(ok->monitoring.alerts.rules[2].by == "feature");
    CHECK(ok->monitoring.retention.raw_days == 30);
    auto msg = [&](const std::string& extra) {
        auto r = load(extra);
        return r.ok() ? std::string() : r.status().message();
    };
    CHECK(msg("alerts: {rules: [{name: a, kind: pass_rate_below, scorer: json, below: 1.5}]}")
              .find("key 'below'") != std::string::npos);
    CHECK(msg("alerts: {rules: [{name: a, kind: score_drop, scorer: json, drop: 1, below: 0.5}]}")
              .find("'below'") != std::string::npos);
    CHECK(msg("alerts: {rules: [{name: a, kind: score_drop, scorer: nope, drop: 1}]}")
              .find("key 'scorer'") != std::string::npos);
    CHECK(msg("alerts: {rules: [{name: a, kind: nope}]}").find("key 'kind'") != std::string::npos);
    CHECK(msg("alerts: {rules: [{name: a, kind: score_drop, scorer: json, drop: 1, window: 7x}]}")
              .find("key 'window'") != std::string::npos);
    CHECK(msg("alerts: {webhook: {url: ftp://x, format: slack}}").find("key 'url'") !=
          std::string::npos);
    CHECK(msg("alerts: {webhook: {url: http://x, format: teams}}").find("key 'format'") !=
          std::string::npos);
    CHECK(msg("alerts: {rules: [{name: a, kind: spend_above, judge: nobody, above_usd: 1}]}")
              .find("key 'judge'") != std::string::npos);
    CHECK(msg("retention: {raw_days: -1}").find("key 'raw_days'") != std::string::npos);
    CHECK(msg("retention: {raw_dayz: 3}").find("raw_dayz") != std::string::npos);
    CHECK(msg("alerts: {rules: [{name: a, kind: spend_above, above_usd: 1}, {name: a, kind: "
              "spend_above, above_usd: 2}]}")
              .find("used twice") != std::string::npos);
}

TEST_CASE_TEMPLATE(
    "monitor maintenance: pruning a backlog larger than one chunk prunes all of it, once", B,
    testing::SqliteBackend, testing::PostgresBackend) {
    Fixture<B> f;
    traffic(f, 0, 3, 1500, 4.0, 0.9);  // 4500 traces, chunks of 2000
    traffic(f, 5, 6, 10, 4.0, 0.9);    // newer: kept
    auto maint = open_maintenance_store(f.path()).value();
    auto r = maint->prune_raw(k_t0 + 4 * k_day, k_t0 + 10 * k_day).value();
    CHECK(r.traces_pruned == 4500);
    CHECK(
        f.scalar("SELECT count(*) FROM traces WHERE substr(raw, 1, 18) = '{\"raw_pruned\":true'") ==
        4500);
    CHECK(f.scalar("SELECT count(*) FROM traces") == 4510);
    CHECK(f.scalar("SELECT count(*) FROM traces t JOIN scores s ON s.trace = t.id") == 9020);
    CHECK(maint->prune_raw(k_t0 + 4 * k_day, k_t0 + 10 * k_day).value().traces_pruned == 0);
}

TEST_CASE_TEMPLATE(
    "monitor maintenance: erasing more traces than one batch erases all of them and their rows", B,
    testing::SqliteBackend, testing::PostgresBackend) {
    Fixture<B> f;
    for (int i = 0; i < 2500; ++i) {  // PostgreSQL erases 1000 traces per transaction
        f.add(k_t0 + i * 1000, "chat", "v1", 4.0, true, "t1", "big-user");
    }
    traffic(f, 0, 1, 10, 4.0, 0.9);  // user u1: kept
    auto maint = open_maintenance_store(f.path()).value();
    auto er = maint->erase("user", "big-user");
    REQUIRE_MESSAGE(er.ok(), er.status().message());
    CHECK(er->traces == 2500);
    CHECK(er->scores == 5000);
    CHECK(er->trace_ts_ms.size() == 2500);
    CHECK(f.scalar("SELECT count(*) FROM traces WHERE user_id = 'big-user'") == 0);
    CHECK(f.scalar("SELECT count(*) FROM traces") == 10);
    CHECK(f.scalar("SELECT count(*) FROM scores") == 20);
    CHECK(maint->erase("user", "big-user").value().traces == 0);
}

TEST_CASE_TEMPLATE("monitor aggregates: workers refreshing at once count every score once", B,
                   testing::SqliteBackend, testing::PostgresBackend) {
    Fixture<B> f;
    traffic(f, 0, 3, 200, 4.0, 0.9);
    const std::string where = f.path();
    std::vector<std::thread> workers;
    std::vector<Status> results(3);
    for (auto& r : results) {
        workers.emplace_back([&where, &r] {
            auto agg = open_aggregate_store(where);
            if (!agg.ok()) {
                r = agg.status();
                return;
            }
            for (int i = 0; i < 3 && r.ok(); ++i) {
                r = (*agg)->refresh(0);
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    for (const auto& r : results) {
        CHECK_MESSAGE(r.ok(), r.message());
    }
    CHECK(
        f.scalar("SELECT sum(count) FROM aggregates WHERE bucket = 'day' AND scorer = 'quality'") ==
        600);
    CHECK(f.scalar(
              "SELECT sum(count) FROM aggregates WHERE bucket = 'hour' AND scorer = 'quality'") ==
          600);
    CHECK(f.scalar("SELECT sum(seen) FROM aggregates WHERE bucket = 'day'") == 1200);
    CHECK(f.scalar("SELECT count(*) FROM aggregates WHERE bucket = 'day'") == 6);
}

TEST_CASE_TEMPLATE("monitor alerts: workers checking at once fire once and resolve once", B,
                   testing::SqliteBackend, testing::PostgresBackend) {
    Fixture<B> f;
    traffic(f, 0, 7, 20, 4.0, 0.95);
    traffic(f, 7, 14, 20, 3.0, 0.95, "chat", "v1", 2);
    const std::string where = f.path();
    AlertsOptions o;
    o.rules = {drop_rule()};
    // Three workers, each with its own connections, check the rule at once.
    auto race = [&](int64_t now) {
        std::vector<std::thread> workers;
        std::vector<Status> results(3);
        std::vector<CheckReport> reports(3);
        for (size_t i = 0; i < 3; ++i) {
            workers.emplace_back([&, i] {
                auto agg = open_aggregate_store(where);
                auto alerts = open_alert_store(where);
                if (!agg.ok() || !alerts.ok()) {
                    results[i] = !agg.ok() ? agg.status() : alerts.status();
                    return;
                }
                AlertManager m(o, **agg, **alerts, nullptr);
                auto r = m.check(now);
                if (!r.ok()) {
                    results[i] = r.status();
                    return;
                }
                reports[i] = *r;
            });
        }
        for (auto& w : workers) {
            w.join();
        }
        size_t fired = 0, resolved = 0;
        for (size_t i = 0; i < 3; ++i) {
            CHECK_MESSAGE(results[i].ok(), results[i].message());
            fired += reports[i].fired.size();
            resolved += reports[i].resolved.size();
        }
        return std::pair{fired, resolved};
    };
    auto first = race(k_t0 + 14 * k_day);
    CHECK(first.first == 1);
    CHECK(f.scalar("SELECT count(*) FROM alerts") == 1);
    traffic(f, 14, 21, 20, 4.0, 0.95, "chat", "v1", 3);
    auto second = race(k_t0 + 21 * k_day);
    CHECK(second.first == 0);
    CHECK(second.second == 1);
    CHECK(f.scalar("SELECT count(*) FROM alerts WHERE state = 'resolved'") == 1);
    CHECK(f.scalar("SELECT count(*) FROM alerts") == 1);
}

TEST_CASE(
    "monitor alerts: the database refuses a second firing alert of a rule and group <postgres>") {
    Fixture<testing::PostgresBackend> f;
    auto alerts = open_alert_store(f.path()).value();
    AlertRecord a;
    a.rule = "r";
    a.kind = "score_drop";
    a.group_key = "feature=chat";
    a.fired_ms = k_t0;
    a.message = "m";
    REQUIRE(alerts->insert(a).ok());
    auto again = alerts->insert(a);  // no lock taken: the unique index still holds
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().message().find("alerts_firing_once") != std::string::npos);
    a.group_key = "feature=search";
    CHECK(alerts->insert(a).ok());
    CHECK(f.scalar("SELECT count(*) FROM alerts WHERE state = 'firing'") == 2);
}

TEST_CASE("monitor webhook payloads: Slack text is escaped, JSON carries every field") {
    AlertRecord a;
    a.id = 7;
    a.rule = "drop";
    a.kind = "score_drop";
    a.group_key = "feature=<!channel> & co";
    a.message = "mean fell";
    a.fired_ms = 1793491200000LL;
    auto slack = nlohmann::json::parse(alert_payload(a, false, "slack"));
    REQUIRE(slack.size() == 1);
    CHECK(slack["text"] == "[FIRING] drop (feature=&lt;!channel&gt; &amp; co): mean fell");
    auto j = nlohmann::json::parse(alert_payload(a, true, "json"));
    CHECK(j["status"] == "resolved");
    CHECK(j["group"] == "feature=<!channel> & co");
    CHECK(j["id"] == 7);
    CHECK(j["fired_at"] == "2026-11-01T00:00:00.000Z");
    CHECK(j["resolved_at"].is_null());
    std::vector<std::string> keys;
    for (const auto& item : j.items()) {
        keys.push_back(item.key());
    }
    // The keys README "Delivery" documents, no more (items() is sorted).
    CHECK(keys == std::vector<std::string>{"baseline", "baseline_count", "count", "fired_at",
                                           "group", "id", "idempotency_key", "kind", "message",
                                           "p_value", "resolved_at", "rule", "status", "value"});
    CHECK(j["idempotency_key"] == "assay-alert-7-resolved");
    CHECK(alert_idempotency_key(a, false) == "assay-alert-7-firing");
}
