#include "monitor/monitor_loop.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/clock.h"
#include "monitor/alert_manager.h"
#include "monitor/quality_metrics.h"
#include "monitor/webhook.h"
#include "store/aggregate_store.h"
#include "store/alert_store.h"
#include "store/maintenance_store.h"

namespace assay {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    auto l = spdlog::get("monitor");
    return l ? l : spdlog::default_logger();
}

}  // namespace

MonitorLoop::MonitorLoop(MonitoringConfig config, std::string sqlite_path)
    : m_cfg(std::move(config)), m_path(std::move(sqlite_path)) {}

MonitorLoop::~MonitorLoop() { stop(); }

Status MonitorLoop::start() {
    auto agg = open_aggregate_store(m_path);
    if (!agg.ok()) {
        return agg.status();
    }
    m_agg = std::move(agg.value());
    auto alerts = open_alert_store(m_path);
    if (!alerts.ok()) {
        return alerts.status();
    }
    m_alerts = std::move(alerts.value());
    auto maint = open_maintenance_store(m_path);
    if (!maint.ok()) {
        return maint.status();
    }
    m_maint = std::move(maint.value());
    if (!m_cfg.alerts.webhook.url.empty()) {
        m_notifier = std::make_unique<WebhookNotifier>(m_cfg.alerts.webhook);
    }
    m_stop.store(false);
    m_thread = std::thread([this] { run(); });
    return {};
}

void MonitorLoop::stop() {
    m_stop.store(true);
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

std::string MonitorLoop::metrics_text() const {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_metrics;
}

void MonitorLoop::run() {
    int64_t next_refresh = 0, next_alerts = 0, next_retention = 0;
    while (!m_stop.load()) {
        const int64_t now = now_ms();
        const bool refresh = now >= next_refresh;
        const bool alerts = !m_cfg.alerts.rules.empty() && now >= next_alerts;
        const bool retention = m_cfg.retention.raw_days > 0 && now >= next_retention;
        if (refresh || alerts || retention) {
            tick(now, refresh, alerts, retention);
        }
        if (refresh) {
            next_refresh = now + m_cfg.monitor.interval_ms;
        }
        if (alerts) {
            next_alerts = now + m_cfg.alerts.interval_ms;
        }
        if (retention) {
            next_retention = now + m_cfg.retention.interval_ms;
        }
        for (int i = 0; i < 10 && !m_stop.load(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

void MonitorLoop::tick(int64_t now, bool refresh, bool alerts, bool retention) {
    auto log = logger();
    if (retention) {
        auto r = m_maint->prune_raw(now - static_cast<int64_t>(m_cfg.retention.raw_days) * 86400000,
                                    now);
        if (!r.ok()) {
            log->warn("retention: {}", r.status().message());
        } else if (r->traces_pruned > 0 || r->dead_letters_deleted > 0) {
            log->info("retention: pruned the raw text of {} traces, deleted {} dead letters",
                      r->traces_pruned, r->dead_letters_deleted);
        }
    }
    if (alerts) {
        AlertManager manager(m_cfg.alerts, *m_agg, *m_alerts, m_notifier.get());
        auto rep = manager.check(now);
        if (!rep.ok()) {
            log->warn("alerts: {}", rep.status().message());
        } else {
            for (const auto& a : rep->fired) {
                log->warn("alert firing: {} {}: {}", a.rule, a.group_key, a.message);
            }
            for (const auto& a : rep->resolved) {
                log->info("alert resolved: {} {}", a.rule, a.group_key);
            }
            for (const auto& e : rep->errors) {
                log->warn("alert delivery: {}", e);
            }
        }
    } else if (refresh) {
        if (Status st = m_agg->refresh(); !st.ok()) {
            log->warn("aggregates: {}", st.message());
        }
    }
    if (refresh || alerts) {
        auto text = render_quality_metrics(*m_agg, now, m_cfg.monitor);
        if (!text.ok()) {
            log->warn("quality metrics: {}", text.status().message());
        } else {
            std::lock_guard<std::mutex> lock(m_mu);
            m_metrics = std::move(text.value());
        }
    }
}

}  // namespace assay
