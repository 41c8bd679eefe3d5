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
           e == JudgeError::cancelled || e == JudgeError::circuit_open ||
           e == JudgeError::withdrawn;
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
    o.settle = task.reservations;
    store_outcome(task.scorer, std::move(o),
                  "storing the " + std::string(to_string(decision)) + " decision of scorer '" +
                      sc.name + "'");
}

void JudgeStage::Impl::store_outcome(size_t scorer, JudgeOutcome o, std::string what) {
    ready.push_back({scorer, std::move(o), std::move(what)});
}

void JudgeStage::Impl::flush_outcomes() {
    if (ready.empty() && unstored.empty()) {
        return;
    }
    const size_t held = unstored.size();
    std::vector<Unstored> batch;
    batch.swap(unstored);  // the held ones first, oldest first
    batch.reserve(batch.size() + ready.size());
    for (Unstored& u : ready) {
        batch.push_back(std::move(u));
    }
    ready.clear();
    std::vector<JudgeOutcome> outcomes;
    outcomes.reserve(batch.size());
    for (const Unstored& u : batch) {
        outcomes.push_back(u.outcome);
    }
    const auto w = store->write_judge_outcomes(outcomes);
    if (w.ok() || w.status().code() == StatusCode::unavailable) {
        for (size_t i = 0; i < batch.size(); ++i) {
            take_write(batch[i],
                       w.ok() ? Result<JudgeWrite>((*w)[i]) : Result<JudgeWrite>(w.status()),
                       held > 0);
        }
    } else {
        // One outcome the store refuses (not unavailable): one by one, so the
        // others land; once the store is unavailable the rest are held.
        for (Unstored& u : batch) {
            if (!unstored.empty()) {
                unstored.push_back(std::move(u));
            } else {
                take_write(u, store->write_judge_outcome(u.outcome), held > 0);
            }
        }
    }
    if (held > 0 && unstored.empty()) {
        judge_stage_log()->info("the {} held judge outcome(s) are stored", held);
    }
}

bool JudgeStage::Impl::take_write(Unstored& u, const Result<JudgeWrite>& w, bool outage_logged) {
    const JudgeOutcome& o = u.outcome;
    if (w.ok() && w->stored) {
        count_task(u.scorer, o.score);
        return true;
    }
    if (!w.ok() && w.status().code() == StatusCode::unavailable) {
        if (unstored.empty() && !outage_logged) {
            judge_stage_log()->warn(
                "trace {}: {}: {}; the outcome is held and written again once the store is back "
                "(logged once per outage)",
                o.trace_id, u.what, w.status().message());
        }
        unstored.push_back(std::move(u));
        return false;
    }
    if (!w.ok()) {
        judge_stage_log()->error("trace {}: {}: {}", o.trace_id, u.what, w.status().message());
        unwritable.emplace(u.scorer, o.trace_id);
        (void)store->release_judge_budget(o.settle);  // best effort: else they lapse at stop
        return false;
    }
    // Lease lost: the task is another worker's now. The calls were made and
    // billed all the same: keep their cost on record and free the estimates.
    Status kept = store->record_llm_calls(o.cache, o.spend);
    if (kept.ok()) {
        kept = store->release_judge_budget(o.settle);
    }
    if (!kept.ok()) {
        judge_stage_log()->error("trace {}: recording the spend of a dropped result: {}",
                                 o.trace_id, kept.message());
    }
    {
        std::lock_guard<std::mutex> lock(mu);
        ++task_counts["lease_lost"];
    }
    if (!lease_lost_logged) {
        lease_lost_logged = true;
        judge_stage_log()->warn(
            "{} (logged once; the judge stage metrics count these as lease_lost; raise "
            "store.judge_lease_ms if calls outlast it)",
            w->lease_lost);
    }
    return false;
}

void JudgeStage::Impl::leave_pending(Task& task) {
    const JudgeStageScorer& sc = setup.scorers[task.scorer];
    JudgeOutcome o;
    o.trace_id = task.task.trace_id;
    o.scorer = sc.name;
    o.scorer_version = sc.version;
    o.settle = task.reservations;
    store_outcome(task.scorer, std::move(o), "releasing the task of scorer '" + sc.name + "'");
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
    o.settle = task.reservations;
    store_outcome(task.scorer, std::move(o), "storing judgements of scorer '" + sc.name + "'");
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
        if (r.error != JudgeError::cancelled && r.error != JudgeError::withdrawn) {
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
