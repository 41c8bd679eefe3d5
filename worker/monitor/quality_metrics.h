#pragma once
// Prometheus gauges of the latest window's quality per scorer and feature
// (README "Monitoring", "Metrics"), over monitor.metrics_window up to the end
// of the current hour: assay_quality_mean, assay_quality_pass_rate
// and assay_quality_scored. Labels are scorer and feature only, never tenant
// or user, and at most max_metric_features features per scorer (the rest are
// summed into feature="__other__"), so cardinality stays bounded. Reads the
// aggregates (errors: the store's io_error). Not thread-safe.

#include <cstdint>
#include <string>

#include "core/status.h"
#include "monitor/alert_config.h"
#include "store/aggregate_store.h"

namespace assay {

Result<std::string> render_quality_metrics(AggregateStore& store, int64_t now_ms,
                                           const MonitorOptions& options);

}  // namespace assay
