#include "pipeline/prometheus.h"

#include "core/prometheus_text.h"

namespace assay {

namespace {

using prom::header;
using prom::label;
constexpr auto num = prom::number;

}  // namespace

std::string render_prometheus(const Pipeline::Metrics& m) {
    std::string out;
    const RunSummary& s = m.committed;
    header(out, "assay_traces_committed_total", "counter", "Traces durably stored");
    out += "assay_traces_committed_total " + std::to_string(s.accepted) + "\n";
    header(out, "assay_traces_rejected_total", "counter", "Records dead-lettered, by reason");
    for (const auto& [reason, n] : s.reject_reasons) {
        out += "assay_traces_rejected_total{reason=\"" + label(reason) + "\"} " +
               std::to_string(n) + "\n";
    }
    header(out, "assay_decisions_total", "counter", "Committed decisions by scorer and decision");
    for (const auto& t : s.scorers) {
        const std::string sc = "scorer=\"" + label(t.scorer) + "\"";
        const std::pair<const char*, int64_t> kinds[] = {{"scored", t.scored},
                                                         {"filtered_out", t.filtered_out},
                                                         {"sampled_out", t.sampled_out},
                                                         {"skipped_missing_input", t.missing_input},
                                                         {"pending", t.pending},
                                                         {"skipped_budget", t.skipped_budget},
                                                         {"failed", t.errors}};
        for (const auto& [kind, n] : kinds) {
            out += "assay_decisions_total{" + sc + ",decision=\"" + kind + "\"} " +
                   std::to_string(n) + "\n";
        }
    }
    header(out, "assay_scorer_seen_total", "counter",
           "Traces a scorer saw (for extrapolating sampled scores)");
    for (const auto& t : s.scorers) {
        out += "assay_scorer_seen_total{scorer=\"" + label(t.scorer) + "\"} " +
               std::to_string(t.seen) + "\n";
    }
    header(out, "assay_scorer_sampled_total", "counter",
           "Traces a scorer ran on or queued (in scope, sampled)");
    for (const auto& t : s.scorers) {
        out += "assay_scorer_sampled_total{scorer=\"" + label(t.scorer) + "\"} " +
               std::to_string(t.seen - t.filtered_out - t.sampled_out) + "\n";
    }
    header(out, "assay_pipeline_chunks_in_flight", "gauge",
           "Batches received but not yet committed");
    out += "assay_pipeline_chunks_in_flight " + std::to_string(m.chunks_in_flight) + "\n";
    header(out, "assay_commit_failures_total", "counter", "Batch commits that failed");
    out += "assay_commit_failures_total " + std::to_string(m.commit_failures) + "\n";
    header(out, "assay_store_blocked", "gauge",
           "1 while a commit waits for another connection's store write lock");
    out += std::string("assay_store_blocked ") + (m.store_blocked ? "1" : "0") + "\n";
    header(out, "assay_batch_commit_seconds", "histogram", "Time to commit one batch to the store");
    const auto& bounds = Pipeline::commit_buckets();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
        cumulative += m.commit_counts[i];
        out += "assay_batch_commit_seconds_bucket{le=\"" + num(bounds[i]) + "\"} " +
               std::to_string(cumulative) + "\n";
    }
    cumulative += m.commit_counts[bounds.size()];
    out += "assay_batch_commit_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += "assay_batch_commit_seconds_sum " + num(m.commit_seconds_sum) + "\n";
    out += "assay_batch_commit_seconds_count " + std::to_string(cumulative) + "\n";
    return out;
}

}  // namespace assay
