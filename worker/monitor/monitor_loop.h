#pragma once
// MonitorLoop: the worker's periodic monitoring on its own thread and its
// own SQLite connections (README "Monitoring"): every monitor.interval it
// refreshes the aggregates and the /metrics quality gauges, every
// alerts.interval it evaluates the alert rules (when there are any), every
// retention.interval it prunes raw trace text (when retention.raw_days > 0).
// Failures are logged (logger "monitor") and retried on the next tick; they
// never stop the worker. start()/stop() from the owner's thread;
// metrics_text() from any thread.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "monitor/alert_config.h"

namespace assay {

class AggregateStore;
class AlertStore;
class MaintenanceStore;
class Notifier;

class MonitorLoop {
public:
    MonitorLoop(MonitoringConfig config, std::string sqlite_path);
    ~MonitorLoop();

    // Opens the stores (io_error names the path) and starts the thread.
    Status start();
    // Stops the thread (waits for the current tick).
    void stop();
    // The quality gauges of the last refresh ("" before the first one).
    std::string metrics_text() const;

private:
    void run();
    void tick(int64_t now, bool refresh, bool alerts, bool retention);

    MonitoringConfig m_cfg;
    std::string m_path;
    std::unique_ptr<AggregateStore> m_agg;
    std::unique_ptr<AlertStore> m_alerts;
    std::unique_ptr<MaintenanceStore> m_maint;
    std::unique_ptr<Notifier> m_notifier;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    mutable std::mutex m_mu;
    std::string m_metrics;
};

}  // namespace assay
