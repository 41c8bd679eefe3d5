// The judge stage's outcomes: each reply parsed (one retry on a parse
// error), and when every judge of a task has answered, the verdicts
// aggregated and stored with the judgements, spend and cache entries; the
// tallies for metrics (judge_stage_impl.h).
#include <algorithm>

#include "core/time_format.h"
#include "judge/ensemble.h"
#include "judge/judge_stage_impl.h"
#include "judge/reply_parser.h"

namespace assay {

namespace {

// Errors that leave the task pending: nothing is wrong with the trace.
bool leaves_pending(JudgeError e) {
    return e == JudgeError::paused || e == JudgeError::auth || e == JudgeError::billing ||
           e == JudgeError::unknown_model || e == JudgeError::unsupported_parameter ||
           e == JudgeError::cancelled || e == JudgeError::circuit_open;
}

}  // namespace

void JudgeStage::Impl::take_verdict(Slot& s, const Rubric& rubric, const JudgeVerdict& v) {
    s.verdict = v;
    s.rec.score = v.score;
    s.rec.passed = v.score >= rubric.pass_threshold;
    s.rec.choice = v.choice;
    s.rec.reasoning = v.reasoning;
}

void JudgeStage::Impl::count_call(JudgeState& js, const std::string& outcome,
                                  const JudgeResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    ++js.m.results[outcome];
    js.m.attempts += static_cast<uint64_t>(r.attempts);
    js.m.input_tokens += r.input_tokens;
    js.m.output_tokens += r.output_tokens;
    js.m.reasoning_tokens += r.reasoning_tokens;
    js.m.cost_usd += r.cost_usd;
}

void JudgeStage::Impl::count_task(size_t scorer, const std::optional<ScoreRow>& row) {
    std::lock_guard<std::mutex> lock(mu);
    if (!row) {
        ++task_counts["left_pending"];
        return;
    }
    ++task_counts[to_string(row->decision)];
    const JudgeStageScorer& sc = setup.scorers[scorer];
    ScorerTally& t = by_scorer[sc.name];
    t.scorer = sc.name;
    t.version = sc.version;
    t.is_judge = true;
    if (row->decision == Decision::scored && row->score) {
        ++t.scored;
        t.value_sum += row->score->value;
        if (row->score->passed) {
            ++(*row->score->passed ? t.passed : t.failed_check);
        }
    } else if (row->decision == Decision::failed) {
        ++t.errors;
    } else if (row->decision == Decision::skipped_budget) {
        ++t.skipped_budget;
    } else if (row->decision == Decision::skipped_missing_input) {
        ++t.missing_input;
    }
}

void JudgeStage::Impl::write_final(Task& task, Decision decision, const std::string& reason) {
    const JudgeStageScorer& sc = setup.scorers[task.scorer];
    JudgeOutcome o;
    o.trace_id = task.task.trace_id;
    o.scorer = sc.name;
    o.scorer_version = sc.version;
    ScoreRow row;
    row.trace_id = o.trace_id;
    row.scorer = sc.name;
    row.scorer_version = sc.version;
    row.decision = decision;
    row.reason = reason;
    row.at_ms = now();
    o.score = row;
    if (Status st = store->write_judge_outcome(o); !st.ok()) {
        judge_stage_log()->error("trace {}: storing the {} decision of scorer '{}': {}", o.trace_id,
                                 to_string(decision), sc.name, st.message());
        unwritable.emplace(task.scorer, o.trace_id);
        return;
    }
    count_task(task.scorer, o.score);
}

void JudgeStage::Impl::finalize(Task& task) {
    const JudgeStageScorer& sc = setup.scorers[task.scorer];
    const int64_t at = now();
    const std::string day = utc_day(at);
    JudgeOutcome o;
    o.trace_id = task.task.trace_id;
    o.scorer = sc.name;
    o.scorer_version = sc.version;
    bool pending = false;
    std::string errors;
    std::vector<EnsembleMember> members;
    for (Slot& s : task.slots) {
        JudgeState& js = judges[s.judge];
        pending = pending || s.keep_pending;
        if (s.rec.attempts > 0 || s.rec.cached) {
            JudgeSpend sp{js.rt.transport.name, day,
                          s.rec.attempts,       s.rec.input_tokens,
                          s.rec.output_tokens,  s.rec.cost_usd,
                          s.rec.cached ? 1 : 0};
            if (!s.rec.cached) {  // a cache hit re-uses recorded tokens: nothing billed
                sp.reasoning_tokens = s.rec.reasoning_tokens;
                sp.cached_input_tokens = s.rec.cached_input_tokens;
            }
            o.spend.push_back(std::move(sp));
        }
        if (s.cache_entry) {
            o.cache.push_back(*s.cache_entry);
        }
        if (!s.rec.error_type.empty()) {
            errors += (errors.empty() ? "" : "; ") + std::string("judge '") + s.rec.judge +
                      "': " + s.rec.error_type + ": " + s.rec.error_message;
        } else if (s.verdict) {
            members.push_back({s.member, *s.verdict});
        }
    }
    if (pending) {
        // The answers that paused a judge (auth, billing, unknown model).
        for (Slot& s : task.slots) {
            if (s.keep_pending && !s.rec.error_type.empty()) {
                o.judgements.push_back(s.rec);
            }
        }
    } else {
        for (Slot& s : task.slots) {
            o.judgements.push_back(s.rec);
        }
        ScoreRow row;
        row.trace_id = o.trace_id;
        row.scorer = sc.name;
        row.scorer_version = sc.version;
        row.at_ms = at;
        if (!errors.empty()) {
            row.decision = Decision::failed;
            row.reason = errors;
        } else {
            auto agg = aggregate_verdicts(sc.spec.rubric, sc.spec.aggregate, members);
            if (!agg.ok()) {
                row.decision = Decision::failed;
                row.reason = agg.status().message();
            } else {
                row.decision = Decision::scored;
                row.score = Score{agg->value, agg->passed, agg->label, agg->explanation};
            }
        }
        o.score = row;
    }
    if (Status st = store->write_judge_outcome(o); !st.ok()) {
        judge_stage_log()->error("trace {}: storing judgements of scorer '{}': {}", o.trace_id,
                                 sc.name, st.message());
        unwritable.emplace(task.scorer, o.trace_id);
        return;
    }
    for (const JudgeSpend& sp : o.spend) {
        for (JudgeState& js : judges) {
            if (js.rt.transport.name == sp.judge && js.day == sp.day) {
                js.spent_today += sp.cost_usd;
            }
        }
    }
    count_task(task.scorer, o.score);
}

void JudgeStage::Impl::complete(Completion c) {
    auto it = tasks.find(c.task);
    if (it == tasks.end()) {
        return;
    }
    Task& task = it->second;
    Slot& s = task.slots[c.slot];
    JudgeState& js = judges[s.judge];
    const Rubric& rubric = setup.scorers[task.scorer].spec.rubric;
    const JudgeResult& r = c.result;
    js.reserved = std::max(0.0, js.reserved - s.estimate);
    s.rec.attempts += r.attempts;
    s.rec.input_tokens += r.input_tokens;
    s.rec.output_tokens += r.output_tokens;
    s.rec.reasoning_tokens += r.reasoning_tokens;
    s.rec.cached_input_tokens += r.cached_input_tokens;
    s.rec.cost_usd += r.cost_usd;
    s.rec.latency_ms = r.latency_ms;
    std::string outcome;
    std::optional<JudgeVerdict> answer;  // for identical requests waiting on this one
    if (r.ok()) {
        auto v = parse_reply(rubric, r.text);
        if (v.ok()) {
            outcome = "ok";
            take_verdict(s, rubric, *v);
            answer = *v;
            if (js.rt.cache) {
                s.cache_entry = JudgeCacheEntry{s.key,  js.rt.transport.name, js.rt.transport.model,
                                                r.text, r.input_tokens,       r.output_tokens,
                                                now()};
            }
        } else if (s.parse_tries == 0) {
            s.parse_tries = 1;
            count_call(js, "parse_retry", r);
            judge_stage_log()->info(
                "trace {}: judge '{}' reply did not parse ({}); asking once more",
                task.task.trace_id, js.rt.transport.name, v.status().message());
            submit(c.task, c.slot, s);
            return;
        } else {
            outcome = "parse_error";
            s.rec.error_type = "parse_error";
            s.rec.error_message = v.status().message();
            s.rec.reasoning = r.text.substr(0, 2000);  // what the judge said, for humans
        }
    } else if (leaves_pending(r.error)) {
        outcome = to_string(r.error);
        s.keep_pending = true;
        if (r.attempts > 0) {  // the provider's answer paused the judge: keep it on record
            s.rec.error_type = to_string(r.error);
            s.rec.error_message = r.status.message();
        }
        if (r.error != JudgeError::cancelled) {
            available(js);  // logs the pause once
        }
    } else {
        outcome = to_string(r.error);
        s.rec.error_type = to_string(r.error);
        s.rec.error_message = r.status.message();
    }
    count_call(js, outcome, r);
    s.done = true;
    const bool shared = js.rt.cache;
    const std::string key = s.key;
    if (--task.remaining == 0) {
        finalize(task);
        tasks.erase(it);
    }
    if (shared) {
        release_followers(key, answer, r.input_tokens, r.output_tokens);
    }
}

}  // namespace assay
