#include "monitor/quality_metrics.h"

#include <algorithm>
#include <map>

#include "core/prometheus_text.h"
#include "monitor/rule_eval.h"

namespace assay {

namespace {

using prom::label;
constexpr auto num = prom::number;

void merge(GroupStats& into, const GroupStats& g) {
    into.count += g.count;
    into.sum += g.sum;
    into.sum_sq += g.sum_sq;
    into.passed += g.passed;
    into.failed += g.failed;
}

}  // namespace

Result<std::string> render_quality_metrics(AggregateStore& store, int64_t now_ms,
                                           const MonitorOptions& o) {
    AggregateQuery q;
    // The gauges include the current, partial hour: fresher, not reproducible.
    q.to_ms = window_end_ms(now_ms) + 3600000;
    q.from_ms = q.to_ms - o.metrics_window_ms;
    q.by = {"feature"};
    auto rows = store.query(q);
    if (!rows.ok()) {
        return rows.status();
    }
    // scorer -> latest version with data in the window.
    std::map<std::string, std::pair<int64_t, std::string>> latest;
    for (const auto& g : *rows) {
        auto& l = latest[g.scorer];
        if (g.count > 0 &&
            (g.last_ms > l.first || (g.last_ms == l.first && g.scorer_version > l.second))) {
            l = {g.last_ms, g.scorer_version};
        }
    }
    std::map<std::string, std::vector<GroupStats>> per_scorer;
    for (const auto& g : *rows) {
        if (g.count > 0 && latest[g.scorer].second == g.scorer_version) {
            per_scorer[g.scorer].push_back(g);
        }
    }
    std::string mean, pass, scored;
    for (auto& [scorer, list] : per_scorer) {
        std::sort(list.begin(), list.end(), [](const GroupStats& a, const GroupStats& b) {
            return a.count != b.count ? a.count > b.count : a.group[0] < b.group[0];
        });
        std::vector<std::pair<std::string, GroupStats>> shown;
        GroupStats other;
        for (size_t i = 0; i < list.size(); ++i) {
            if (static_cast<int>(i) < o.max_metric_features) {
                shown.emplace_back(list[i].group[0].empty() ? "none" : list[i].group[0], list[i]);
            } else {
                merge(other, list[i]);
            }
        }
        if (other.count > 0) {
            shown.emplace_back("__other__", other);
        }
        for (const auto& [feature, g] : shown) {
            const std::string labels =
                "{scorer=\"" + label(scorer) + "\",feature=\"" + label(feature) + "\"} ";
            mean += "assay_quality_mean" + labels + num(g.mean()) + "\n";
            scored += "assay_quality_scored" + labels + std::to_string(g.count) + "\n";
            if (auto p = g.pass_rate()) {
                pass += "assay_quality_pass_rate" + labels + num(*p) + "\n";
            }
        }
    }
    const std::string w = std::to_string(o.metrics_window_ms / 1000);
    std::string out;
    out += "# HELP assay_quality_mean Mean score over the latest window (monitor.metrics_window, " +
           w + " s) by scorer and feature\n# TYPE assay_quality_mean gauge\n" + mean;
    out +=
        "# HELP assay_quality_pass_rate Pass rate over the latest window by scorer and feature\n"
        "# TYPE assay_quality_pass_rate gauge\n" +
        pass;
    out +=
        "# HELP assay_quality_scored Traces scored in the latest window by scorer and feature\n"
        "# TYPE assay_quality_scored gauge\n" +
        scored;
    return out;
}

}  // namespace assay
