#include "monitor/alert_manager.h"

#include <algorithm>
#include <map>

#include "core/clock.h"
#include "store/judge_claimant.h"

namespace assay {

namespace {

// A delivery outcome the alert store could not record is reported like a
// delivery problem (the next check sends it again).
void record_delivery(const Status& st, CheckReport& report) {
    if (!st.ok()) {
        report.errors.push_back("recording a delivery: " + st.message());
    }
}

// The figures of the latest evaluation, stored with the alert.
void take_figures(AlertRecord& a, const Finding& f) {
    a.value = f.value.value_or(0);  // a firing finding measured all of them
    a.baseline = f.baseline.value_or(0);
    a.count = f.count;
    a.baseline_count = f.baseline_count;
    a.p_value = f.p_value.value_or(1);
}

}  // namespace

int64_t delivery_lease_ms(const WebhookOptions& webhook) {
    // webhook.cpp: each attempt up to timeout_ms, then 250 ms, 500 ms, ...
    // (capped at 8 s) before the next.
    int64_t one_notice = 0;
    for (int attempt = 0; attempt <= webhook.max_retries; ++attempt) {
        if (attempt > 0) {
            one_notice += std::min(8000, 250 << std::min(attempt - 1, 5));
        }
        one_notice += webhook.timeout_ms;
    }
    return 2 * one_notice + 10000;
}

AlertManager::AlertManager(const AlertsOptions& options, AggregateStore& aggregates,
                           AlertStore& alerts, Notifier* notifier, std::string claimant)
    : m_opts(options),
      m_agg(aggregates),
      m_alerts(alerts),
      m_notifier(notifier),
      m_claimant(claimant.empty() ? make_judge_claimant() : std::move(claimant)) {}

Result<CheckReport> AlertManager::check(int64_t now_ms) {
    CheckReport report;
    ASSAY_RETURN_IF_ERROR(m_agg.refresh());
    for (const auto& rule : m_opts.rules) {
        auto findings = evaluate_rule(rule, m_agg, now_ms);
        if (!findings.ok()) {
            return findings.status();
        }
        ASSAY_RETURN_IF_ERROR(m_alerts.begin());
        Status st = apply(rule, *findings, now_ms, report);
        if (!st.ok()) {
            (void)m_alerts.rollback();  // best effort: the error being returned matters more
            return st;
        }
        ASSAY_RETURN_IF_ERROR(m_alerts.commit());
        for (auto& f : *findings) {
            report.findings.push_back(std::move(f));
        }
    }
    deliver(report);
    return report;
}

Status AlertManager::apply(const AlertRule& rule, const std::vector<Finding>& findings, int64_t now,
                           CheckReport& report) {
    auto open = m_alerts.open_alerts(rule.name);
    if (!open.ok()) {
        return open.status();
    }
    std::map<std::string, AlertRecord> open_by_group;
    for (auto& a : *open) {
        open_by_group[a.group_key] = a;
    }
    std::map<std::string, bool> seen;
    for (const auto& f : findings) {
        seen[f.group_key] = true;
        auto it = open_by_group.find(f.group_key);
        if (f.state == FindingState::firing) {
            if (it != open_by_group.end()) {
                AlertRecord a = it->second;
                a.last_eval_ms = now;
                take_figures(a, f);
                ASSAY_RETURN_IF_ERROR(m_alerts.touch(a));
                continue;
            }
            auto last = m_alerts.last_resolved(rule.name, f.group_key);
            if (!last.ok()) {
                return last.status();
            }
            if (*last && now - **last < rule.cooldown_ms) {
                ++report.suppressed;
                continue;
            }
            AlertRecord a;
            a.rule = rule.name;
            a.kind = to_string(rule.kind);
            a.group_key = f.group_key;
            a.tenant = f.tenant;
            a.state = "firing";
            a.fired_ms = now;
            a.last_eval_ms = now;
            take_figures(a, f);
            a.message = f.message;
            auto id = m_alerts.insert(a);
            if (!id.ok()) {
                return id.status();
            }
            a.id = *id;
            report.fired.push_back(a);
        } else if (f.state == FindingState::ok && it != open_by_group.end()) {
            ASSAY_RETURN_IF_ERROR(m_alerts.resolve(it->second.id, now, f.message));
            AlertRecord a = it->second;
            a.state = "resolved";
            a.resolved_ms = now;
            report.resolved.push_back(a);
        } else if (it != open_by_group.end()) {
            AlertRecord a = it->second;
            a.last_eval_ms = now;
            ASSAY_RETURN_IF_ERROR(m_alerts.touch(a));
        }
    }
    for (const auto& [key, a] : open_by_group) {
        if (!seen.count(key)) {
            ASSAY_RETURN_IF_ERROR(m_alerts.resolve(a.id, now, "no data in the window"));
            AlertRecord r = a;
            r.state = "resolved";
            r.resolved_ms = now;
            report.resolved.push_back(r);
        }
    }
    return {};
}

void AlertManager::deliver(CheckReport& report) {
    auto pending = m_alerts.undelivered();
    if (!pending.ok()) {
        report.errors.push_back(pending.status().message());
        return;
    }
    const int64_t lease = delivery_lease_ms(m_opts.webhook);
    for (const auto& listed : *pending) {
        // The lease runs on the wall clock, whatever time the rules were
        // evaluated at (--now).
        const int64_t now = assay::now_ms();
        const std::string& holder = listed.delivery_claimed_by;
        const bool held = !holder.empty() && holder != m_claimant;
        const std::string dead = held && judge_claimant_dead_here(holder) ? holder : "";
        auto claimed = m_alerts.claim_delivery(listed.id, m_claimant, dead, now, now + lease);
        if (!claimed.ok()) {
            report.errors.push_back("alert " + std::to_string(listed.id) + " (" + listed.rule +
                                    "): " + claimed.status().message());
            continue;
        }
        if (!claimed->has_value()) {
            // Another live checker holds it (or delivered it since the list).
            report.held_elsewhere += held && listed.delivery_claimed_until_ms >= now ? 1 : 0;
            continue;
        }
        deliver_claimed(**claimed, report);
        record_delivery(m_alerts.release_delivery(listed.id, m_claimant), report);
    }
}

void AlertManager::deliver_claimed(const AlertRecord& a, CheckReport& report) {
    // The firing notice goes first; a resolve is sent only after it.
    for (bool resolve_notice : {false, true}) {
        const Delivery d = resolve_notice ? a.resolve_delivered : a.fire_delivered;
        if (d != Delivery::pending && d != Delivery::failed) {
            continue;
        }
        if (resolve_notice && a.state != "resolved") {
            continue;
        }
        Delivery outcome = Delivery::no_webhook;
        Status st;
        if (m_notifier != nullptr) {
            st = m_notifier->send(a, resolve_notice);
            outcome = st.ok() ? Delivery::delivered : Delivery::failed;
        }
        if (outcome == Delivery::delivered) {
            ++report.delivered;
        } else if (outcome == Delivery::failed) {
            ++report.delivery_failures;
            report.errors.push_back("alert " + std::to_string(a.id) + " (" + a.rule +
                                    "): " + st.message());
        }
        auto written = m_alerts.set_delivery(a.id, resolve_notice, outcome,
                                             st.ok() ? "" : st.message(), m_claimant);
        if (!written.ok()) {
            record_delivery(written.status(), report);
            return;
        }
        if (!*written) {
            report.errors.push_back("alert " + std::to_string(a.id) + " (" + a.rule +
                                    "): the delivery claim ran out before the outcome was "
                                    "recorded; another checker delivers it");
            return;
        }
        if (outcome == Delivery::failed) {
            return;  // keep the order: no resolve before its fire
        }
    }
}

}  // namespace assay
