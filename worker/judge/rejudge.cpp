#include "judge/rejudge.h"

#include <future>

#include "core/trace_json.h"
#include "judge/judge_redaction.h"
#include "judge/rubric_render.h"
#include "judge/verdict_schema.h"

namespace assay {

namespace {

struct Pending {
    JudgeRequest request;
    std::future<JudgeResult> answer;
    double estimate = 0;
};

// The rendered, redacted request for one trace; missing_input or
// invalid_argument when the trace cannot be judged.
Result<JudgeRequest> request_for(const JudgeRuntime& judge, const Rubric& rubric,
                                 const RejudgeItem& item, int64_t now_ms) {
    auto trace = parse_stored_trace(item.raw, now_ms);
    if (!trace.ok()) {
        return Status::invalid_argument("the stored trace does not parse: " +
                                        trace.status().message());
    }
    auto prompt = judge.redact.any()
                      ? render(rubric, redact_trace(*trace, judge.redact, builtin_redactor()))
                      : render(rubric, *trace);
    if (!prompt.ok()) {
        return prompt.status();
    }
    JudgeRequest request{std::string(judge_system_message()), *prompt, item.trace_id};
    attach_verdict_schema(request, judge.transport, rubric);
    return request;
}

}  // namespace

Result<std::vector<RejudgeResult>> rejudge_traces(const JudgeRuntime& judge, JudgeClient& client,
                                                  const Rubric& rubric,
                                                  const std::vector<RejudgeItem>& items,
                                                  Store& store, const std::string& day,
                                                  int64_t now_ms) {
    const JudgeOptions& o = judge.transport;
    auto spent = store.judge_spend(o.name, day);
    if (!spent.ok()) {
        return spent.status();
    }
    double committed = spent->cost_usd;  // booked today, plus estimates of calls in flight
    std::vector<RejudgeResult> out(items.size());
    std::vector<std::optional<Pending>> pending(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        out[i].trace_id = items[i].trace_id;
        auto request = request_for(judge, rubric, items[i], now_ms);
        if (!request.ok()) {
            const bool missing = request.status().code() == StatusCode::missing_input;
            out[i].error = missing ? "skipped_missing_input" : "failed";
            out[i].error_message = request.status().message();
            continue;
        }
        const double in_tokens =
            static_cast<double>(request->system.size() + request->user.size()) / 4.0;
        const double estimate =
            (in_tokens * o.price.input_per_mtok + o.max_tokens * o.price.output_per_mtok) / 1e6;
        if (judge.daily_budget_usd > 0 && committed + estimate > judge.daily_budget_usd) {
            out[i].error = "skipped_budget";
            out[i].error_message = "judge '" + o.name + "' reached its daily budget on " + day;
            continue;
        }
        committed += estimate;
        pending[i] = Pending{*request, client.submit_future(*request), estimate};
    }
    for (size_t i = 0; i < items.size(); ++i) {
        if (!pending[i]) {
            continue;
        }
        RejudgeResult& r = out[i];
        for (int tries = 0; tries < 2; ++tries) {
            JudgeResult answer = tries == 0 ? pending[i]->answer.get()
                                            : client.submit_future(pending[i]->request).get();
            r.cost_usd += answer.cost_usd;
            r.attempts += answer.attempts;
            r.input_tokens += answer.input_tokens;
            r.output_tokens += answer.output_tokens;
            r.latency_ms = answer.latency_ms;
            if (answer.attempts > 0) {
                JudgeSpend spend{o.name,
                                 day,
                                 answer.attempts,
                                 answer.input_tokens,
                                 answer.output_tokens,
                                 answer.cost_usd,
                                 0,
                                 answer.reasoning_tokens,
                                 answer.cached_input_tokens};
                ASSAY_RETURN_IF_ERROR(store.record_llm_calls({}, {spend}));
            }
            if (!answer.ok()) {
                r.error = to_string(answer.error);
                r.error_message = answer.status.message();
                break;
            }
            auto v = parse_reply(rubric, answer.text);
            if (v.ok()) {
                r.verdict = *v;
                r.passed = v->score >= rubric.pass_threshold;
                r.error.clear();
                r.error_message.clear();
                break;
            }
            r.error = "parse_error";  // asked once more unless this was the second try
            r.error_message = v.status().message();
        }
    }
    return out;
}

}  // namespace assay
