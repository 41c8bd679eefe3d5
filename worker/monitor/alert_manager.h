#pragma once
// AlertManager: one evaluation of every rule, then deduplication, cooldown
// and delivery (README "Monitoring"). A continuing condition fires once and
// resolves once: the firing alert of (rule, group) lives in `alerts` and is
// only updated while the condition holds. Per (rule, group):
//   firing finding, no open alert  -> new alert, "firing" notice
//                                     (unless one resolved less than the
//                                     rule's cooldown ago: suppressed)
//   firing finding, open alert     -> figures updated, no notice
//   ok finding, open alert         -> resolved, "resolved" notice
//   insufficient data, open alert  -> stays open (too little data is not a
//                                     recovery)
//   group gone from the window     -> resolved ("no data in the window")
// Notices not delivered (webhook down) are retried on the next check.
// Run one checker per store (the worker, or a cron `assay alerts check`).
// Not thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "monitor/alert_config.h"
#include "monitor/rule_eval.h"
#include "monitor/webhook.h"
#include "store/aggregate_store.h"
#include "store/alert_store.h"

namespace assay {

struct CheckReport {
    std::vector<Finding> findings;   // every group of every rule
    std::vector<AlertRecord> fired;  // new alerts
    std::vector<AlertRecord> resolved;
    int suppressed = 0;  // in cooldown
    int delivered = 0;
    int delivery_failures = 0;
    std::vector<std::string> errors;  // delivery problems (named)
};

class AlertManager {
public:
    // `notifier` may be null (no webhook): alerts are stored, not sent.
    AlertManager(const AlertsOptions& options, AggregateStore& aggregates, AlertStore& alerts,
                 Notifier* notifier)
        : m_opts(options), m_agg(aggregates), m_alerts(alerts), m_notifier(notifier) {}

    // Refreshes aggregates, evaluates every rule at now_ms, applies the
    // transitions (one transaction per rule), then delivers pending notices.
    // Fails on store errors; delivery failures are reported, not fatal.
    Result<CheckReport> check(int64_t now_ms);

private:
    Status apply(const AlertRule& rule, const std::vector<Finding>& findings, int64_t now_ms,
                 CheckReport& report);
    void deliver(CheckReport& report);

    const AlertsOptions& m_opts;
    AggregateStore& m_agg;
    AlertStore& m_alerts;
    Notifier* m_notifier;
};

}  // namespace assay
