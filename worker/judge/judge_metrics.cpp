#include "judge/judge_metrics.h"

#include "core/prometheus_text.h"

namespace assay {

namespace {

using prom::header;
using prom::label;
constexpr auto num = prom::number;

}  // namespace

std::string render_judge_metrics(const JudgeStageMetrics& m) {
    std::string out;
    header(out, "assay_judge_tasks_total", "counter",
           "Judge tasks finished by the judge stage, by decision");
    for (const char* d : {"scored", "failed", "skipped_budget", "skipped_missing_input",
                          "left_pending", "lease_lost"}) {
        auto it = m.tasks.find(d);
        out += std::string("assay_judge_tasks_total{decision=\"") + d + "\"} " +
               std::to_string(it == m.tasks.end() ? 0 : it->second) + "\n";
    }
    header(out, "assay_judge_tasks_in_flight", "gauge", "Judge tasks waiting for a judge's answer");
    out += "assay_judge_tasks_in_flight " + std::to_string(m.in_flight) + "\n";
    header(out, "assay_judge_results_total", "counter",
           "Judge request results by judge and outcome");
    for (const auto& j : m.judges) {
        for (const auto& [outcome, n] : j.results) {
            out += "assay_judge_results_total{judge=\"" + label(j.name) + "\",outcome=\"" +
                   label(outcome) + "\"} " + std::to_string(n) + "\n";
        }
    }
    header(out, "assay_judge_attempts_total", "counter",
           "HTTP attempts made to each judge (retries included)");
    for (const auto& j : m.judges) {
        out += "assay_judge_attempts_total{judge=\"" + label(j.name) + "\"} " +
               std::to_string(j.attempts) + "\n";
    }
    header(out, "assay_judge_tokens_total", "counter", "Tokens reported by each judge's provider");
    for (const auto& j : m.judges) {
        out += "assay_judge_tokens_total{judge=\"" + label(j.name) + "\",direction=\"input\"} " +
               std::to_string(j.input_tokens) + "\n";
        out += "assay_judge_tokens_total{judge=\"" + label(j.name) + "\",direction=\"output\"} " +
               std::to_string(j.output_tokens) + "\n";
    }
    header(out, "assay_judge_reasoning_tokens_total", "counter",
           "Output tokens each judge's provider reported as reasoning (part of the output tokens)");
    for (const auto& j : m.judges) {
        out += "assay_judge_reasoning_tokens_total{judge=\"" + label(j.name) + "\"} " +
               std::to_string(j.reasoning_tokens) + "\n";
    }
    header(out, "assay_judge_cost_usd_total", "counter",
           "Cost of each judge's calls in USD (usage x price)");
    for (const auto& j : m.judges) {
        out +=
            "assay_judge_cost_usd_total{judge=\"" + label(j.name) + "\"} " + num(j.cost_usd) + "\n";
    }
    header(out, "assay_judge_paused", "gauge",
           "1 while a judge is paused or disabled (its tasks stay pending)");
    for (const auto& j : m.judges) {
        const bool paused = j.state == "paused" || j.state == "disabled";
        out += "assay_judge_paused{judge=\"" + label(j.name) + "\"} " + (paused ? "1" : "0") + "\n";
    }
    return out;
}

}  // namespace assay
