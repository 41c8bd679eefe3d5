#include "pipeline/evaluate.h"

#include "core/clock.h"
#include "core/time_format.h"

namespace assay {

std::vector<CounterDelta>& CounterAccumulator::day(int64_t ts_ms,
                                                   const std::vector<ConfiguredScorer>& scorers) {
    const int64_t day = ts_ms >= 0 ? ts_ms / 86400000 : (ts_ms - 86399999) / 86400000;
    auto it = m_by_day.find(day);
    if (it == m_by_day.end()) {
        const std::string name = format_rfc3339_ms(day * 86400000).substr(0, 10);
        std::vector<CounterDelta> rows(scorers.size());
        for (size_t i = 0; i < scorers.size(); ++i) {
            rows[i].scorer = scorers[i].name;
            rows[i].day = name;
        }
        it = m_by_day.emplace(day, std::move(rows)).first;
    }
    return it->second;
}

void CounterAccumulator::flush_into(std::vector<CounterDelta>& out) const {
    for (const auto& [day, rows] : m_by_day) {
        for (const auto& r : rows) {
            if (r.seen > 0) {
                out.push_back(r);
            }
        }
    }
}

RunSummary empty_summary(const std::vector<ConfiguredScorer>& scorers) {
    RunSummary s;
    s.scorers.resize(scorers.size());
    for (size_t i = 0; i < scorers.size(); ++i) {
        s.scorers[i].scorer = scorers[i].name;
        s.scorers[i].version = scorers[i].version;
        s.scorers[i].is_judge = scorers[i].is_judge();
    }
    return s;
}

void evaluate_trace(const Trace& trace, const std::vector<ConfiguredScorer>& scorers, int64_t now,
                    WriteBatch& batch, CounterAccumulator& counters, RunSummary& summary) {
    auto& day_rows = counters.day(trace.timestamp_ms, scorers);
    for (size_t i = 0; i < scorers.size(); ++i) {
        const ConfiguredScorer& cs = scorers[i];
        ScoreRow row;  // trace_id stays empty: batch_index names the trace
        row.batch_index = static_cast<int32_t>(batch.traces.size());
        row.scorer = cs.name;
        row.scorer_version = cs.version;
        row.at_ms = now;

        CounterDelta& c = day_rows[i];
        ++c.seen;
        if (cs.is_pairwise()) {
            // Only `assay gate` runs a pairwise scorer: one output alone
            // has nothing to be compared with.
            row.decision = Decision::filtered_out;
            row.reason =
                "pairwise scorer: it compares a baseline and a candidate, so only `assay gate` "
                "runs it";
            summary.scorers[i].count(row.decision);
            batch.scores.push_back(std::move(row));
            continue;
        }
        SampleDecision sd = cs.policy.decide(trace);
        if (sd.outcome != SampleOutcome::filtered_out) {
            ++c.in_scope;
        }
        if (sd.outcome == SampleOutcome::sampled) {
            ++c.sampled;
        } else if (sd.outcome == SampleOutcome::forced) {
            ++c.forced;
        }

        if (sd.outcome == SampleOutcome::filtered_out) {
            row.decision = Decision::filtered_out;
            row.reason = std::move(sd.reason);
        } else if (sd.outcome == SampleOutcome::sampled_out) {
            row.decision = Decision::sampled_out;
            row.reason = std::move(sd.reason);
        } else if (cs.is_judge()) {
            row.decision = Decision::pending;
            row.reason = sd.outcome == SampleOutcome::forced ? std::move(sd.reason)
                                                             : std::string("queued for the judge");
            batch.judge_tasks.push_back({trace.trace_id, cs.name, cs.version, now,
                                         static_cast<int32_t>(batch.traces.size())});
        } else {
            Result<Score> r = score_guarded(*cs.impl, trace);
            if (r.ok()) {
                row.decision = Decision::scored;
                row.score = std::move(r.value());
                ScorerTally& t = summary.scorers[i];
                t.value_sum += row.score->value;
                if (row.score->passed) {
                    ++(*row.score->passed ? t.passed : t.failed_check);
                }
                if (sd.outcome == SampleOutcome::forced) {
                    row.reason = std::move(sd.reason);
                }
            } else if (r.status().code() == StatusCode::missing_input) {
                row.decision = Decision::skipped_missing_input;
                row.reason = r.status().message();
            } else if (r.status().code() == StatusCode::not_applicable) {
                row.decision = Decision::filtered_out;
                row.reason = r.status().message();
            } else {
                row.decision = Decision::failed;
                row.reason = r.status().to_string();
            }
        }
        summary.scorers[i].count(row.decision);
        batch.scores.push_back(std::move(row));
    }
}

namespace {

// A low-cardinality reason for counting rejections (summary, /metrics):
// "field 'usage.input_tokens': expected ..." -> "field 'usage.input_tokens'",
// "invalid UTF-8 at byte 338" -> "invalid UTF-8 at byte N".
std::string reason_key(const std::string& error) {
    auto colon = error.find(':');
    std::string k = colon == std::string::npos ? error : error.substr(0, colon);
    std::string out;
    for (size_t i = 0; i < k.size() && out.size() < 80; ++i) {
        const bool starts_number = i == 0 || k[i - 1] == ' ' || k[i - 1] == '[';
        if (k[i] >= '0' && k[i] <= '9' && starts_number) {
            while (i + 1 < k.size() && k[i + 1] >= '0' && k[i + 1] <= '9') {
                ++i;
            }
            out += 'N';
        } else {
            out += k[i];
        }
    }
    return out;
}

}  // namespace

void process_chunk(std::vector<RawRecord>& records, const std::vector<ConfiguredScorer>& scorers,
                   const ParseLimits& limits, WriteBatch& batch, RunSummary& summary,
                   std::vector<std::string>* errors) {
    if (errors != nullptr) {
        errors->assign(records.size(), std::string());
    }
    size_t index = 0;
    CounterAccumulator counters;
    const int64_t now = now_ms();
    batch.traces.reserve(records.size());
    batch.scores.reserve(records.size() * scorers.size());
    for (RawRecord& rec : records) {
        const size_t i = index++;
        ++summary.records;
        Result<Trace> t =
            rec.trace             ? Result<Trace>(std::move(*rec.trace))
            : !rec.reject.empty() ? Result<Trace>(Status::invalid_argument(rec.reject))
            : rec.oversized       ? Result<Trace>(Status::limit_exceeded(
                                        "trace is " + std::to_string(rec.full_bytes) +
                                        " bytes; the limit (ingest.max_trace_bytes) is " +
                                        std::to_string(limits.max_trace_bytes)))
                                  : parse_trace(std::move(rec.text), limits, rec.received_ms);
        if (!t.ok()) {
            DeadLetter d;
            d.received_ms = rec.received_ms;
            d.source = rec.source;
            d.line = rec.line;
            d.error = (rec.line > 0 ? "line " + std::to_string(rec.line) + ": " : std::string()) +
                      t.status().message();
            d.raw = rec.text;
            d.raw_bytes = rec.oversized ? rec.full_bytes : rec.text.size();
            ++summary.rejected;
            ++summary.reject_reasons[reason_key(t.status().message())];
            if (errors != nullptr) {
                (*errors)[i] = t.status().message();
            }
            batch.dead_letters.push_back(std::move(d));
            continue;
        }
        evaluate_trace(*t, scorers, now, batch, counters, summary);
        ++summary.accepted;
        batch.traces.push_back(std::move(t.value()));
    }
    counters.flush_into(batch.counters);
}

}  // namespace assay
