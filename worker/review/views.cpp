#include "review/views.h"

#include "core/input_gist.h"
#include "core/text.h"
#include "core/time_format.h"
#include "core/trace_json.h"

namespace assay::review {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<bool>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json messages_json(const std::vector<Message>& ms) {
    json out = json::array();
    for (const auto& m : ms) {
        out.push_back({{"role", m.role}, {"content", m.content}});
    }
    return out;
}

}  // namespace

std::optional<std::string> pretty_json(const std::string& text) {
    auto v = ordered_json::parse(text, nullptr, false);
    if (v.is_discarded() || !(v.is_object() || v.is_array())) {
        return std::nullopt;
    }
    return v.dump(2, ' ', false, ordered_json::error_handler_t::replace);
}

std::string why_no_scores(const ScorerSummary& s) {
    if (s.has_scores) {
        return "";
    }
    const std::string none = "No trace has been scored by " + s.scorer + " " + s.version;
    if (s.type != "judge") {
        return none +
               ": every trace was filtered out, sampled out or skipped (assay trace ID shows why "
               "for one)";
    }
    if (s.pending == 0 && s.judge_calls == 0) {
        return none +
               ": no trace was sampled for its LLM judge yet (see its sample_rate and filter)";
    }
    std::string out =
        none + ": " + std::to_string(s.pending) + " traces are waiting for its LLM judge (pending)";
    if (s.judge_calls == 0) {
        return out +
               ", and no judge call has been recorded: the judge is disabled or not configured "
               "where the worker "
               "runs (e.g. its API key variable is not set), or no worker has run yet "
               "(assay judges status --config FILE shows which)";
    }
    out += "; " + std::to_string(s.judge_calls) + " judge calls recorded, " +
           std::to_string(s.judge_errors) + " failed";
    if (!s.last_judge_error.empty()) {
        out += " (last error " + s.last_judge_error + ")";
    }
    return out;
}

json scorer_json(const ScorerSummary& s) {
    const std::string why = why_no_scores(s);
    return {{"scorer", s.scorer},
            {"version", s.version},
            {"type", s.type},
            {"last_seen", format_rfc3339_ms(s.last_seen_ms)},
            {"scored", s.has_scores},
            {"pending", s.pending},
            {"judge_calls", s.judge_calls},
            {"judge_errors", s.judge_errors},
            {"why_none", why.empty() ? json(nullptr) : json(why)}};
}

json label_json(const LabelRecord& l) {
    return {{"id", l.id},
            {"trace_id", l.trace_id},
            {"scorer", l.scorer},
            {"scorer_version", l.scorer_version},
            {"reviewer", l.reviewer},
            {"verdict", l.verdict},
            {"score", opt(l.score)},
            {"note", l.note},
            {"at", format_rfc3339_ms(l.at_ms)},
            {"source", l.source}};
}

json list_json(const ReviewList& list, int64_t offset, int64_t limit) {
    json rows = json::array();
    for (const auto& r : list.rows) {
        auto t = parse_stored_trace(r.raw, r.ts_ms);
        const std::string& why = r.judge_reasoning.empty() ? r.explanation : r.judge_reasoning;
        rows.push_back(
            {{"trace_id", r.trace_id},
             {"value", r.value},
             {"passed", opt(r.passed)},
             {"label", r.label},
             {"explanation_excerpt", excerpt(why, 240)},
             {"input_excerpt", t.ok() ? excerpt(input_gist(*t), 200) : excerpt(r.raw, 200)},
             {"output_excerpt", t.ok() ? excerpt(t->output, 200) : ""},
             {"timestamp", format_rfc3339_ms(r.ts_ms)},
             {"feature", r.feature},
             {"tenant", r.tenant},
             {"prompt_version", r.prompt_version},
             {"model", r.model},
             {"labels", r.labels}});
    }
    return {{"scorer", list.scorer},
            {"scorer_version", list.scorer_version},
            {"scorer_type", list.scorer_type},
            {"total", list.total},
            {"offset", offset},
            {"limit", limit},
            {"rows", rows}};
}

ordered_json trace_json(const TraceDetail& d) {
    ordered_json out = {{"trace_id", d.trace_id},
                        {"timestamp", format_rfc3339_ms(d.ts_ms)},
                        {"received", format_rfc3339_ms(d.received_ms)}};
    auto t = parse_stored_trace(d.raw, d.ts_ms);
    if (t.ok()) {
        out["input"] = {{"text", t->input}, {"messages", messages_json(t->input_messages)}};
        auto pretty = pretty_json(t->output);
        out["output"] = {{"text", t->output},
                         {"messages", messages_json(t->output_messages)},
                         {"pretty_json", pretty ? json(*pretty) : json(nullptr)}};
        out["reference"] = t->reference ? json(*t->reference) : json(nullptr);
        out["context"] = t->context;
        auto raw = ordered_json::parse(d.raw, nullptr, false);
        out["metadata"] = (!raw.is_discarded() && raw.is_object() && raw.contains("metadata"))
                              ? raw["metadata"]
                              : ordered_json::object();
        out["usage"] = {{"input_tokens", opt(t->usage.input_tokens)},
                        {"output_tokens", opt(t->usage.output_tokens)},
                        {"cached_tokens", opt(t->usage.cached_tokens)},
                        {"cost_usd", opt(t->usage.cost_usd)}};
        out["latency_ms"] = opt(t->latency_ms);
        out["ttft_ms"] = opt(t->ttft_ms);
        out["finish_reason"] = t->finish_reason;
        out["error"] = t->error ? json({{"type", t->error->type}, {"message", t->error->message}})
                                : json(nullptr);
    } else {
        out["parse_error"] = t.status().message();
    }
    out["raw"] = d.raw;
    json decisions = json::array();
    for (const auto& r : d.decisions) {
        json judgements = json::array();
        for (const auto& j : r.judgements) {
            judgements.push_back({{"judge", j.judge},
                                  {"model", j.model},
                                  {"rubric", j.rubric},
                                  {"rubric_version", j.rubric_version},
                                  {"rubric_hash", j.rubric_hash},
                                  {"score", opt(j.score)},
                                  {"passed", opt(j.passed)},
                                  {"choice", j.choice},
                                  {"reasoning", j.reasoning},
                                  {"input_tokens", j.input_tokens},
                                  {"output_tokens", j.output_tokens},
                                  {"cost_usd", j.cost_usd},
                                  {"latency_ms", j.latency_ms},
                                  {"attempts", j.attempts},
                                  {"cached", j.cached},
                                  {"error_type", j.error_type},
                                  {"error_message", j.error_message},
                                  {"at", format_rfc3339_ms(j.at_ms)}});
        }
        decisions.push_back({{"scorer", r.scorer},
                             {"scorer_version", r.scorer_version},
                             {"scorer_type", r.scorer_type},
                             {"decision", r.decision},
                             {"value", opt(r.value)},
                             {"passed", opt(r.passed)},
                             {"label", r.label},
                             {"explanation", r.explanation},
                             {"reason", r.reason},
                             {"at", format_rfc3339_ms(r.at_ms)},
                             {"judgements", judgements}});
    }
    out["decisions"] = decisions;
    json labels = json::array();
    for (const auto& l : d.labels) {
        labels.push_back(label_json(l));
    }
    out["labels"] = labels;
    return out;
}

}  // namespace assay::review
