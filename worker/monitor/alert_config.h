#pragma once
// Monitoring configuration: the `alerts`, `retention` and `monitor` blocks
// of assay.yaml (README "Monitoring" lists every key and default). Parsed
// once at startup by load_config(); unknown keys, wrong types and values out
// of range are errors naming the key (e.g. "alerts.rules[1] (json-broken):
// key 'below': must be between 0 and 1"). Immutable afterwards.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

class ConfigBlock;

enum class RuleKind {
    score_drop,
    pass_rate_below,
    prompt_version_worse,
    judge_error_rate_above,
    spend_above
};

const char* to_string(RuleKind kind);

struct AlertRule {
    std::string name;
    RuleKind kind = RuleKind::score_drop;
    std::string scorer;             // score_drop, pass_rate_below, prompt_version_worse
    std::string judge;              // judge_error_rate_above, spend_above ("" = every judge)
    std::string by;                 // "" (one group) | feature | tenant | prompt_version | model
    int64_t window_ms = 0;          // window: default 7d (1h for rates, 1d for spend)
    double drop = 0;                // score_drop: points; prompt_version_worse: margin (default 0)
    double below = 0;               // pass_rate_below
    double above = 0;               // judge_error_rate_above
    double above_usd = 0;           // spend_above
    int64_t min_count = 30;         // min_count: traces (or judge calls) on each side
    double alpha = 0.01;            // alpha: one-sided significance level
    int64_t cooldown_ms = 3600000;  // cooldown: no re-fire this soon after a resolve
    // score_drop against a pinned baseline instead of the previous window:
    std::optional<double> baseline_mean;      // baseline: {mean: 4.2}
    std::optional<int64_t> baseline_from_ms;  // baseline: {from: RFC3339, to: RFC3339}
    std::optional<int64_t> baseline_to_ms;
};

struct WebhookOptions {
    std::string url;               // alerts.webhook.url ("" = store alerts only)
    std::string format = "slack";  // slack ({"text": ...}) | json
    int timeout_ms = 5000;         // alerts.webhook.timeout_ms: per attempt
    int max_retries = 3;           // alerts.webhook.max_retries: after the first attempt
};

struct AlertsOptions {
    WebhookOptions webhook;
    std::vector<AlertRule> rules;
    int64_t interval_ms = 60000;  // alerts.interval: worker evaluation period
};

struct RetentionOptions {
    int raw_days = 0;               // retention.raw_days: 0 = keep raw text forever
    int64_t interval_ms = 3600000;  // retention.interval: worker pruning period
};

struct MonitorOptions {
    int64_t interval_ms = 60000;          // monitor.interval: aggregates refresh period
    int64_t metrics_window_ms = 3600000;  // monitor.metrics_window: /metrics quality gauges
    int max_metric_features = 50;         // monitor.max_metric_features: per scorer
};

struct MonitoringConfig {
    AlertsOptions alerts;
    RetentionOptions retention;
    MonitorOptions monitor;
};

// Reads the `alerts`, `retention` and `monitor` keys of the top-level block.
Status parse_monitoring_config(ConfigBlock& top, const std::string& base_dir,
                               MonitoringConfig& out);
// Cross-checks rules against the configured scorers and judges (after both
// are loaded): a rule naming an unknown scorer or judge is an error.
Status validate_monitoring_config(const MonitoringConfig& monitoring,
                                  const std::vector<std::string>& scorer_names,
                                  const std::vector<std::string>& judge_names);

}  // namespace assay
