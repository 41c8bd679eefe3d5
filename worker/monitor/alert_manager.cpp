#include "monitor/alert_manager.h"

#include <map>

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
    for (const auto& a : *pending) {
        // The firing notice goes first; a resolve is sent only after it.
        for (bool resolve_notice : {false, true}) {
            const Delivery d = resolve_notice ? a.resolve_delivered : a.fire_delivered;
            if (d != Delivery::pending && d != Delivery::failed) {
                continue;
            }
            if (resolve_notice && a.state != "resolved") {
                continue;
            }
            if (m_notifier == nullptr) {
                record_delivery(
                    m_alerts.set_delivery(a.id, resolve_notice, Delivery::no_webhook, ""), report);
                continue;
            }
            Status st = m_notifier->send(a, resolve_notice);
            if (st.ok()) {
                ++report.delivered;
                record_delivery(
                    m_alerts.set_delivery(a.id, resolve_notice, Delivery::delivered, ""), report);
            } else {
                ++report.delivery_failures;
                report.errors.push_back("alert " + std::to_string(a.id) + " (" + a.rule +
                                        "): " + st.message());
                record_delivery(
                    m_alerts.set_delivery(a.id, resolve_notice, Delivery::failed, st.message()),
                    report);
                break;  // keep the order: no resolve before its fire
            }
        }
    }
}

}  // namespace assay
