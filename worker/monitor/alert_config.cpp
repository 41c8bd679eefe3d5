#include "monitor/alert_config.h"

#include <algorithm>
#include <set>

#include "core/config_block.h"
#include "core/time_format.h"
#include "monitor/duration.h"

namespace assay {

const char* to_string(RuleKind k) {
    switch (k) {
        case RuleKind::score_drop:
            return "score_drop";
        case RuleKind::pass_rate_below:
            return "pass_rate_below";
        case RuleKind::prompt_version_worse:
            return "prompt_version_worse";
        case RuleKind::judge_error_rate_above:
            return "judge_error_rate_above";
        case RuleKind::spend_above:
            return "spend_above";
    }
    return "?";
}

namespace {

std::optional<int64_t> get_duration(ConfigBlock& b, const std::string& key) {
    auto s = b.get_string(key);
    if (!s) {
        return std::nullopt;
    }
    auto d = parse_duration_ms(*s);
    if (!d.ok()) {
        b.fail(key, d.status().message());
        return std::nullopt;
    }
    return *d;
}

void get_fraction(ConfigBlock& b, const std::string& key, double& out, bool required) {
    auto v = b.get_double(key);
    if (!v) {
        if (required) {
            b.fail(key, "is required for this kind");
        }
        return;
    }
    if (*v < 0 || *v > 1) {
        b.fail(key, "must be between 0 and 1");
    }
    out = *v;
}

Status parse_rule(const YAML::Node& node, size_t i, const std::string& base_dir, AlertRule& r) {
    std::string where = "alerts.rules[" + std::to_string(i) + "]";
    if (node.IsMap() && node["name"] && node["name"].IsScalar()) {
        where += " (" + node["name"].Scalar() + ")";
    }
    ConfigBlock b(node, where, base_dir);
    r.name = b.get_string("name").value_or("");
    if (r.name.empty()) {
        b.fail("name", "is required");
    }
    const std::string kind = b.get_string("kind").value_or("");
    static const std::set<std::string> k_kinds = {"score_drop", "pass_rate_below",
                                                  "prompt_version_worse", "judge_error_rate_above",
                                                  "spend_above"};
    if (k_kinds.count(kind) == 0) {
        b.fail("kind",
               "must be one of score_drop, pass_rate_below, prompt_version_worse, "
               "judge_error_rate_above, spend_above; got '" +
                   kind + "'");
        return b.finish();
    }
    const bool scorer_rule =
        kind == "score_drop" || kind == "pass_rate_below" || kind == "prompt_version_worse";
    if (scorer_rule) {
        r.scorer = b.get_string("scorer").value_or("");
        if (r.scorer.empty()) {
            b.fail("scorer", "is required for kind " + kind);
        }
        r.by = b.get_string("by").value_or(kind == "prompt_version_worse" ? "feature" : "");
        static const std::set<std::string> k_by = {"",       "none",           "feature",
                                                   "tenant", "prompt_version", "model"};
        if (k_by.count(r.by) == 0 || (kind == "prompt_version_worse" && r.by == "prompt_version")) {
            b.fail("by",
                   "must be none, feature, tenant, model" +
                       std::string(kind == "prompt_version_worse" ? "" : " or prompt_version") +
                       "; got '" + r.by + "'");
        }
        if (r.by == "none") {
            r.by.clear();
        }
    } else {
        r.judge = b.get_string("judge").value_or("");
    }
    int64_t default_window = 7 * 86400000LL;
    if (kind == "pass_rate_below" || kind == "judge_error_rate_above") {
        default_window = 3600000;
    } else if (kind == "spend_above") {
        default_window = 86400000;
    } else if (kind == "prompt_version_worse") {
        default_window = 14 * 86400000LL;
    }
    r.window_ms = get_duration(b, "window").value_or(default_window);
    if (kind != "spend_above") {
        if (auto v = b.get_int("min_count")) {
            if (*v < 2 || *v > 100000000) {
                b.fail("min_count", "must be between 2 and 100000000");
            }
            r.min_count = *v;
        }
        if (auto v = b.get_double("alpha")) {
            if (*v <= 0 || *v >= 0.5) {
                b.fail("alpha", "must be > 0 and < 0.5");
            }
            r.alpha = *v;
        }
    }
    r.cooldown_ms = get_duration(b, "cooldown").value_or(r.cooldown_ms);
    if (kind == "score_drop") {
        r.kind = RuleKind::score_drop;
        auto d = b.get_double("drop");
        if (!d || *d < 0) {
            b.fail("drop", "is required: the drop in score points that fires (>= 0)");
        }
        r.drop = d.value_or(0);
        if (auto base = b.get_node("baseline")) {
            ConfigBlock bb(*base, where + ".baseline", base_dir);
            r.baseline_mean = bb.get_double("mean");
            auto from = bb.get_string("from");
            auto to = bb.get_string("to");
            if (from || to) {
                auto f = parse_rfc3339_ms(from.value_or(""));
                auto t = parse_rfc3339_ms(to.value_or(""));
                if (!f.ok() || !t.ok() || *t <= *f) {
                    bb.fail(from ? "to" : "from",
                            "from and to must both be RFC 3339 times, from before to");
                } else {
                    r.baseline_from_ms = *f;
                    r.baseline_to_ms = *t;
                }
            }
            if (r.baseline_mean.has_value() == r.baseline_from_ms.has_value()) {
                bb.fail("mean", "give either mean or from/to");
            }
            ASSAY_RETURN_IF_ERROR(bb.finish());
        }
    } else if (kind == "pass_rate_below") {
        r.kind = RuleKind::pass_rate_below;
        get_fraction(b, "below", r.below, true);
    } else if (kind == "prompt_version_worse") {
        r.kind = RuleKind::prompt_version_worse;
        auto d = b.get_double("drop");
        if (d && *d < 0) {
            b.fail("drop", "must be >= 0");
        }
        r.drop = d.value_or(0);
    } else if (kind == "judge_error_rate_above") {
        r.kind = RuleKind::judge_error_rate_above;
        r.min_count = b.has("min_count") ? r.min_count : 20;
        get_fraction(b, "above", r.above, true);
    } else {
        r.kind = RuleKind::spend_above;
        auto v = b.get_double("above_usd");
        if (!v || *v <= 0) {
            b.fail("above_usd", "is required: the spend in USD over the window that fires (> 0)");
        }
        r.above_usd = v.value_or(0);
    }
    return b.finish();
}

Status parse_alerts(const YAML::Node& node, const std::string& base_dir, AlertsOptions& out) {
    ConfigBlock b(node, "alerts", base_dir);
    out.interval_ms = get_duration(b, "interval").value_or(out.interval_ms);
    if (auto wh = b.get_node("webhook")) {
        ConfigBlock w(*wh, "alerts.webhook", base_dir);
        out.webhook.url = w.get_string("url").value_or("");
        if (out.webhook.url.rfind("http://", 0) != 0 && out.webhook.url.rfind("https://", 0) != 0) {
            w.fail("url", "must be an http:// or https:// URL");
        }
        out.webhook.format = w.get_string("format").value_or(out.webhook.format);
        if (out.webhook.format != "slack" && out.webhook.format != "json") {
            w.fail("format", "must be slack or json; got '" + out.webhook.format + "'");
        }
        if (auto v = w.get_int("timeout_ms")) {
            if (*v < 100 || *v > 120000) {
                w.fail("timeout_ms", "must be between 100 and 120000");
            }
            out.webhook.timeout_ms = static_cast<int>(*v);
        }
        if (auto v = w.get_int("max_retries")) {
            if (*v < 0 || *v > 10) {
                w.fail("max_retries", "must be between 0 and 10");
            }
            out.webhook.max_retries = static_cast<int>(*v);
        }
        ASSAY_RETURN_IF_ERROR(w.finish());
    }
    if (auto rules = b.get_node("rules")) {
        if (!rules->IsSequence()) {
            b.fail("rules", "expected a list of rules");
        } else {
            for (size_t i = 0; i < rules->size(); ++i) {
                AlertRule r;
                ASSAY_RETURN_IF_ERROR(parse_rule((*rules)[i], i, base_dir, r));
                for (const auto& other : out.rules) {
                    if (other.name == r.name) {
                        return Status::invalid_argument("alerts.rules[" + std::to_string(i) +
                                                        "]: key 'name': '" + r.name +
                                                        "' is used twice");
                    }
                }
                out.rules.push_back(std::move(r));
            }
        }
    }
    return b.finish();
}

}  // namespace

Status parse_monitoring_config(ConfigBlock& top, const std::string& base_dir,
                               MonitoringConfig& out) {
    if (auto n = top.get_node("alerts")) {
        ASSAY_RETURN_IF_ERROR(parse_alerts(*n, base_dir, out.alerts));
    }
    if (auto n = top.get_node("retention")) {
        ConfigBlock b(*n, "retention", base_dir);
        if (auto v = b.get_int("raw_days")) {
            if (*v < 0 || *v > 36500) {
                b.fail("raw_days", "must be between 0 (keep forever) and 36500");
            }
            out.retention.raw_days = static_cast<int>(*v);
        }
        out.retention.interval_ms = get_duration(b, "interval").value_or(out.retention.interval_ms);
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    if (auto n = top.get_node("monitor")) {
        ConfigBlock b(*n, "monitor", base_dir);
        out.monitor.interval_ms = get_duration(b, "interval").value_or(out.monitor.interval_ms);
        out.monitor.metrics_window_ms =
            get_duration(b, "metrics_window").value_or(out.monitor.metrics_window_ms);
        if (auto v = b.get_int("max_metric_features")) {
            if (*v < 1 || *v > 1000) {
                b.fail("max_metric_features", "must be between 1 and 1000");
            }
            out.monitor.max_metric_features = static_cast<int>(*v);
        }
        ASSAY_RETURN_IF_ERROR(b.finish());
    }
    return {};
}

Status validate_monitoring_config(const MonitoringConfig& monitoring,
                                  const std::vector<std::string>& scorer_names,
                                  const std::vector<std::string>& judge_names) {
    const auto& rules = monitoring.alerts.rules;
    for (size_t i = 0; i < rules.size(); ++i) {
        const auto& r = rules[i];
        const std::string where = "alerts.rules[" + std::to_string(i) + "] (" + r.name + ")";
        if (!r.scorer.empty()) {
            if (std::find(scorer_names.begin(), scorer_names.end(), r.scorer) ==
                scorer_names.end()) {
                return Status::invalid_argument(where + ": key 'scorer': no scorer named '" +
                                                r.scorer + "' under the top-level 'scorers' key");
            }
        }
        if (!r.judge.empty()) {
            if (std::find(judge_names.begin(), judge_names.end(), r.judge) == judge_names.end()) {
                return Status::invalid_argument(where + ": key 'judge': no judge named '" +
                                                r.judge + "' under the top-level 'judges' key");
            }
        }
    }
    return {};
}

}  // namespace assay
