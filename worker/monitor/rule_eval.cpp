#include "monitor/rule_eval.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "monitor/duration.h"
#include "monitor/statistics.h"

namespace assay {

const char* to_string(FindingState s) {
    switch (s) {
        case FindingState::firing:
            return "firing";
        case FindingState::ok:
            return "ok";
        case FindingState::insufficient:
            return "insufficient";
    }
    return "?";
}

namespace {

constexpr int64_t k_hour = 3600000;

std::string fmt(double v, int prec = 3) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

// Not measured: "n/a".
std::string fmt(const std::optional<double>& v, int prec = 3) { return v ? fmt(*v, prec) : "n/a"; }

std::string fmt_p(const std::optional<double>& p) {
    if (!p) {
        return "n/a";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2g", *p);
    return buf;
}

// A mean or rate over n observations: nothing when there were none.
std::optional<double> measured(int64_t n, double v) {
    return n > 0 ? std::optional<double>(v) : std::nullopt;
}

// The test's p-value, or nothing when it had too few observations to run.
std::optional<double> p_of(const TestResult& t) {
    return t.ran ? std::optional<double>(t.p_value) : std::nullopt;
}

// baseline - value, when both were measured.
std::optional<double> difference(const std::optional<double>& baseline,
                                 const std::optional<double>& value) {
    return baseline && value ? std::optional<double>(*baseline - *value) : std::nullopt;
}

SampleSummary summary(const GroupStats& g) { return {g.count, g.mean(), g.variance()}; }

// Per group (by value), the stats of the scorer version with the most recent
// data: scores of different scorer versions are never compared or mixed.
std::map<std::string, GroupStats> latest_version(const std::vector<GroupStats>& rows) {
    std::map<std::string, GroupStats> out;
    for (const auto& r : rows) {
        const std::string key = r.group.empty() ? "" : r.group[0];
        auto it = out.find(key);
        if (it == out.end() || r.last_ms > it->second.last_ms ||
            (r.last_ms == it->second.last_ms && r.scorer_version > it->second.scorer_version)) {
            out[key] = r;
        }
    }
    return out;
}

std::string group_key(const std::string& by, const std::string& value) {
    return by.empty() ? "" : by + "=" + value;
}

std::string in_group(const std::string& key) { return key.empty() ? "" : " [" + key + "]"; }

Finding base(const AlertRule& r, const std::string& by_value) {
    Finding f;
    f.rule = r.name;
    f.kind = r.kind;
    f.group_key = group_key(r.by, by_value);
    if (r.by == "tenant") {
        f.tenant = by_value;
    }
    return f;
}

// The aggregates a rule reads: its scorer over its window (ending at the
// last complete hour), grouped by its `by` key when it has one.
AggregateQuery window_query(const AlertRule& r, int64_t now) {
    AggregateQuery q;
    q.to_ms = window_end_ms(now);
    q.from_ms = q.to_ms - r.window_ms;
    q.scorer = r.scorer;
    if (!r.by.empty()) {
        q.by = {r.by};
    }
    return q;
}

Result<std::vector<Finding>> score_drop(const AlertRule& r, AggregateStore& store, int64_t now) {
    AggregateQuery q = window_query(r, now);
    const int64_t from = q.from_ms;
    auto cur_rows = store.query(q);
    if (!cur_rows.ok()) {
        return cur_rows.status();
    }
    std::string against;
    std::map<std::string, std::vector<GroupStats>> prev_by_group;
    if (!r.baseline_mean) {
        AggregateQuery p = q;
        if (r.baseline_from_ms) {
            p.from_ms = *r.baseline_from_ms;
            p.to_ms = *r.baseline_to_ms;
            against = "the pinned baseline";
        } else {
            p.from_ms = from - r.window_ms;
            p.to_ms = from;
            against = "the previous " + format_duration(r.window_ms);
        }
        auto prev = store.query(p);
        if (!prev.ok()) {
            return prev.status();
        }
        for (auto& g : *prev) {
            prev_by_group[g.group.empty() ? "" : g.group[0]].push_back(g);
        }
    } else {
        against = "the pinned baseline mean";
    }
    std::vector<Finding> out;
    for (const auto& [key, cur] : latest_version(*cur_rows)) {
        Finding f = base(r, key);
        f.value = measured(cur.count, cur.mean());
        f.count = cur.count;
        TestResult t;
        bool enough = cur.count >= r.min_count;
        if (r.baseline_mean) {
            f.baseline = *r.baseline_mean;
            f.baseline_count = 0;
            t = one_sample_drop(summary(cur), *r.baseline_mean, r.drop);
        } else {
            const GroupStats* prev = nullptr;
            for (const auto& g : prev_by_group[key]) {
                if (g.scorer_version == cur.scorer_version) {
                    prev = &g;
                }
            }
            if (prev == nullptr) {
                enough = false;
            } else {
                f.baseline = measured(prev->count, prev->mean());
                f.baseline_count = prev->count;
                enough = enough && prev->count >= r.min_count;
                t = welch_drop(summary(*prev), summary(cur), r.drop);
            }
        }
        f.p_value = p_of(t);
        const std::optional<double> drop = difference(f.baseline, f.value);
        if (!enough || !drop || !f.p_value) {
            f.state = FindingState::insufficient;
        } else if (*drop > r.drop && *f.p_value < r.alpha) {
            f.state = FindingState::firing;
        } else {
            f.state = FindingState::ok;
        }
        f.message = r.scorer + " mean " + fmt(f.value) + " over the last " +
                    format_duration(r.window_ms) + " (n=" + std::to_string(f.count) + ") vs " +
                    fmt(f.baseline) + " in " + against +
                    (r.baseline_mean ? "" : " (n=" + std::to_string(f.baseline_count) + ")") +
                    ": drop " + fmt(drop) + " (threshold " + fmt(r.drop) +
                    "), p=" + fmt_p(f.p_value) + in_group(f.group_key);
        out.push_back(std::move(f));
    }
    return out;
}

Result<std::vector<Finding>> pass_rate_below(const AlertRule& r, AggregateStore& store,
                                             int64_t now) {
    AggregateQuery q = window_query(r, now);
    auto rows = store.query(q);
    if (!rows.ok()) {
        return rows.status();
    }
    std::vector<Finding> out;
    for (const auto& [key, g] : latest_version(*rows)) {
        Finding f = base(r, key);
        const int64_t n = g.passed + g.failed;
        f.count = n;
        f.value = n > 0 ? g.pass_rate() : std::nullopt;
        f.baseline = r.below;
        TestResult t = proportion_test(g.passed, n, r.below, true);
        f.p_value = p_of(t);
        if (n < r.min_count || !f.value || !f.p_value) {
            f.state = FindingState::insufficient;
        } else if (*f.value < r.below && *f.p_value < r.alpha) {
            f.state = FindingState::firing;
        } else {
            f.state = FindingState::ok;
        }
        f.message = r.scorer + " pass rate " + fmt(f.value) + " over the last " +
                    format_duration(r.window_ms) + " (n=" + std::to_string(n) + ") vs threshold " +
                    fmt(r.below) + ", p=" + fmt_p(f.p_value) + in_group(f.group_key);
        out.push_back(std::move(f));
    }
    return out;
}

Result<std::vector<Finding>> prompt_version_worse(const AlertRule& r, AggregateStore& store,
                                                  int64_t now) {
    AggregateQuery q = window_query(r, now);
    q.by.push_back("prompt_version");
    auto rows = store.query(q);
    if (!rows.ok()) {
        return rows.status();
    }
    // Outer group -> scorer version -> prompt versions.
    std::map<std::string, std::vector<GroupStats>> by_outer;
    for (const auto& g : *rows) {
        if (g.count == 0 || g.group.back().empty()) {
            continue;
        }
        by_outer[r.by.empty() ? "" : g.group[0]].push_back(g);
    }
    std::vector<Finding> out;
    for (auto& [key, list] : by_outer) {
        // Compare within the scorer version with the latest data.
        std::string version;
        int64_t last = -1;
        for (const auto& g : list) {
            if (g.last_ms > last || (g.last_ms == last && g.scorer_version > version)) {
                last = g.last_ms;
                version = g.scorer_version;
            }
        }
        std::vector<GroupStats> pv;
        for (const auto& g : list) {
            if (g.scorer_version == version) {
                pv.push_back(g);
            }
        }
        if (pv.size() < 2) {
            continue;  // one prompt version: nothing to compare
        }
        // Newest = first seen last; its predecessor = first seen just before.
        std::sort(pv.begin(), pv.end(), [](const GroupStats& a, const GroupStats& b) {
            return a.first_ms != b.first_ms ? a.first_ms < b.first_ms
                                            : a.group.back() < b.group.back();
        });
        const GroupStats& neu = pv[pv.size() - 1];
        const GroupStats& old = pv[pv.size() - 2];
        Finding f = base(r, key);
        f.group_key =
            (f.group_key.empty() ? "" : f.group_key + " ") + "prompt_version=" + neu.group.back();
        f.value = measured(neu.count, neu.mean());
        f.count = neu.count;
        f.baseline = measured(old.count, old.mean());
        f.baseline_count = old.count;
        TestResult t = welch_drop(summary(old), summary(neu), r.drop);
        f.p_value = p_of(t);
        const std::optional<double> drop = difference(f.baseline, f.value);
        if (neu.count < r.min_count || old.count < r.min_count || !drop || !f.p_value) {
            f.state = FindingState::insufficient;
        } else if (*drop > r.drop && *f.p_value < r.alpha) {
            f.state = FindingState::firing;
        } else {
            f.state = FindingState::ok;
        }
        f.message = r.scorer + " mean " + fmt(f.value) + " for prompt_version " + neu.group.back() +
                    " (n=" + std::to_string(neu.count) + ") vs " + fmt(f.baseline) +
                    " for its predecessor " + old.group.back() +
                    " (n=" + std::to_string(old.count) + ") over the last " +
                    format_duration(r.window_ms) + ": drop " + fmt(drop) +
                    ", p=" + fmt_p(f.p_value) + (r.by.empty() ? "" : " [" + r.by + "=" + key + "]");
        out.push_back(std::move(f));
    }
    return out;
}

Result<std::vector<Finding>> judge_rule(const AlertRule& r, AggregateStore& store, int64_t now) {
    auto w = store.judge_window(r.judge, now - r.window_ms, now);
    if (!w.ok()) {
        return w.status();
    }
    std::vector<Finding> out;
    if (!w->table_present) {
        return out;  // no judge module in this store yet: nothing to evaluate
    }
    Finding f = base(r, "");
    f.group_key = r.judge.empty() ? "" : "judge=" + r.judge;
    const std::string who = r.judge.empty() ? "all judges" : "judge " + r.judge;
    f.count = w->calls;
    if (r.kind == RuleKind::spend_above) {
        // The spend is observed, not estimated from a sample: compared exactly.
        f.value = w->cost_usd;
        f.baseline = r.above_usd;
        f.p_value = 0;
        f.state = w->cost_usd > r.above_usd ? FindingState::firing : FindingState::ok;
        f.message = who + " spent $" + fmt(f.value, 2) + " over the last " +
                    format_duration(r.window_ms) + " (" + std::to_string(w->calls) +
                    " calls) vs budget $" + fmt(r.above_usd, 2);
    } else {
        f.value = measured(
            w->calls,
            w->calls > 0 ? static_cast<double>(w->errors) / static_cast<double>(w->calls) : 0.0);
        f.baseline = r.above;
        TestResult t = proportion_test(w->errors, w->calls, r.above, false);
        f.p_value = p_of(t);
        if (w->calls < r.min_count || !f.value || !f.p_value) {
            f.state = FindingState::insufficient;
        } else if (*f.value > r.above && *f.p_value < r.alpha) {
            f.state = FindingState::firing;
        } else {
            f.state = FindingState::ok;
        }
        f.message = who + " error rate " + fmt(f.value) + " over the last " +
                    format_duration(r.window_ms) + " (" + std::to_string(w->errors) + " of " +
                    std::to_string(w->calls) + " calls) vs threshold " + fmt(r.above) +
                    ", p=" + fmt_p(f.p_value);
    }
    out.push_back(std::move(f));
    return out;
}

}  // namespace

int64_t window_end_ms(int64_t now_ms) { return now_ms - ((now_ms % k_hour) + k_hour) % k_hour; }

Result<std::vector<Finding>> evaluate_rule(const AlertRule& rule, AggregateStore& store,
                                           int64_t now_ms) {
    switch (rule.kind) {
        case RuleKind::score_drop:
            return score_drop(rule, store, now_ms);
        case RuleKind::pass_rate_below:
            return pass_rate_below(rule, store, now_ms);
        case RuleKind::prompt_version_worse:
            return prompt_version_worse(rule, store, now_ms);
        case RuleKind::judge_error_rate_above:
        case RuleKind::spend_above:
            return judge_rule(rule, store, now_ms);
    }
    return Status::internal("unknown rule kind");
}

}  // namespace assay
