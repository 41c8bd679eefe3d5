// The judge stage's calls for one claimed task: the rendered prompts (with
// redaction per judge), cache hits, the stage's cost cap, the daily budget
// check and submitting the rest (judge_stage_impl.h).
#include <algorithm>
#include <cstdio>

#include "core/time_format.h"
#include "core/trace_json.h"
#include "judge/judge_redaction.h"
#include "judge/judge_stage_impl.h"
#include "judge/reply_parser.h"
#include "judge/rubric_render.h"
#include "judge/verdict_schema.h"
#include "llm/judge_wire.h"

namespace assay {

namespace {

std::string money(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.4f", v);
    return buf;
}

}  // namespace

bool JudgeStage::Impl::available(JudgeState& js) {
    if (!js.client) {
        return false;
    }
    const JudgeClientStatus st = js.client->status();
    if (st.state == JudgeClientStatus::State::paused) {
        if (!js.pause_logged) {
            js.pause_logged = true;
            judge_stage_log()->warn(
                "judge '{}' is paused: {}; its sampled traces stay pending until it is "
                "re-enabled (fix the key, billing or model and restart)",
                js.rt.transport.name, st.pause_reason);
        }
        return false;
    }
    return st.state != JudgeClientStatus::State::circuit_open;
}

bool JudgeStage::Impl::reserve_budgets(Task& task, int64_t at) {
    // Budgets, for the calls still to make (summed per judge).
    std::map<size_t, double> need;
    for (const Slot& s : task.slots) {
        if (!s.done && judges[s.judge].rt.daily_budget_usd > 0) {
            need[s.judge] += s.estimate;
        }
    }
    const std::string day = utc_day(at);
    for (const auto& [j, cost] : need) {
        JudgeState& js = judges[j];
        auto r =
            store->reserve_judge_budget(js.rt.transport.name, day, cost, js.rt.daily_budget_usd);
        if (r.ok() && r->granted) {
            task.reservations.push_back(r->id);
            continue;
        }
        if (Status st = store->release_judge_budget(task.reservations); !st.ok()) {
            judge_stage_log()->warn("releasing budget reservations: {} (they lapse with the lease)",
                                    st.message());
        }
        task.reservations.clear();
        if (!r.ok()) {
            judge_stage_log()->error("judge '{}': reserving today's budget: {}",
                                     js.rt.transport.name, r.status().message());
            leave_pending(task);
            return false;
        }
        write_final(task, Decision::skipped_budget,
                    "judge '" + js.rt.transport.name +
                        "' reached its daily budget: " + money(r->spent) + " spent and " +
                        money(r->reserved) + " in flight of " + money(js.rt.daily_budget_usd) +
                        " on " + day + " (UTC); sampled traces are skipped until the next UTC day");
        return false;
    }
    return true;
}

JudgementRecord JudgeStage::Impl::base_record(const JudgeState& js, const Rubric& rubric,
                                              int64_t at) const {
    JudgementRecord rec;
    rec.judge = js.rt.transport.name;
    rec.model = js.rt.transport.model;
    rec.rubric = rubric.name;
    rec.rubric_version = rubric.version;
    rec.rubric_hash = rubric.content_hash;
    rec.at_ms = at;
    return rec;
}

void JudgeStage::Impl::submit(uint64_t id, size_t slot_index, Slot& slot) {
    JudgeState& js = judges[slot.judge];
    sent_estimate += slot.estimate;
    js.client->submit(slot.request, [this, id, slot_index](JudgeResult r) {
        std::lock_guard<std::mutex> lock(mu);
        done.push_back({id, slot_index, std::move(r)});
        cv.notify_all();
    });
}

void JudgeStage::Impl::start_task(PendingJudgeTask pt, size_t scorer) {
    const JudgeStageScorer& sc = setup.scorers[scorer];
    const Rubric& rubric = sc.spec.rubric;
    Task task;
    task.task = std::move(pt);
    task.scorer = scorer;
    const int64_t at = now();
    std::shared_ptr<const Trace> trace = committed.take(task.task.trace_id, task.task.raw);
    if (!trace) {
        auto parsed = parse_stored_trace(task.task.raw, at);
        if (!parsed.ok()) {
            write_final(task, Decision::failed,
                        "the stored trace does not parse: " + parsed.status().message());
            return;
        }
        trace = std::make_shared<const Trace>(std::move(parsed).value());
    }
    auto plain = render(rubric, *trace);
    if (!plain.ok()) {
        const bool missing = plain.status().code() == StatusCode::missing_input;
        write_final(task, missing ? Decision::skipped_missing_input : Decision::failed,
                    plain.status().message());
        return;
    }
    const std::string system(judge_system_message());
    const int samples = sc.spec.samples;
    // Nothing is sent for this task once its claim's lease may have passed.
    const std::function<bool()> still_held = leases[scorer].still_held();
    for (size_t j : scorer_judges[scorer]) {
        JudgeState& js = judges[j];
        std::string prompt = *plain;
        if (js.rt.redact.any()) {
            auto r = render(rubric, redact_trace(*trace, js.rt.redact, setup.redactor));
            if (!r.ok()) {
                write_final(task, Decision::skipped_missing_input,
                            r.status().message() + " (after PII redaction for judge '" +
                                js.rt.transport.name + "')");
                return;
            }
            prompt = std::move(r).value();
        }
        const double estimate = judge_call_estimate(js.rt.transport, system.size() + prompt.size());
        for (int i = 1; i <= samples; ++i) {
            Slot s;
            s.judge = j;
            s.member = js.rt.transport.name;
            s.key = judge_cache_key(js.rt.transport, rubric, system, prompt);
            s.request = JudgeRequest{system, prompt, task.task.trace_id};
            attach_verdict_schema(s.request, js.rt.transport, rubric);
            s.request.still_wanted = still_held;
            if (samples > 1) {
                // Each sample is its own request: its own seed and cache entry.
                s.member += "#" + std::to_string(i);
                s.request.seed = i;
                s.key = judge_cache_key(js.rt.transport, rubric, system,
                                        prompt + "\nsample " + std::to_string(i));
            }
            s.estimate = estimate;
            s.rec = base_record(js, rubric, at);
            task.slots.push_back(std::move(s));
        }
    }
    // The cache first: a cached answer costs nothing, whatever the budget.
    for (Slot& s : task.slots) {
        JudgeState& js = judges[s.judge];
        if (!js.rt.cache) {
            continue;
        }
        auto hit = store->judge_cache_get(s.key);
        if (!hit.ok()) {
            judge_stage_log()->warn("trace {}: judge cache lookup failed: {}", task.task.trace_id,
                                    hit.status().message());
            continue;
        }
        if (!*hit) {
            continue;
        }
        auto v = parse_reply(rubric, (*hit)->reply);
        if (!v.ok()) {
            continue;
        }
        s.done = true;
        take_verdict(s, rubric, *v);
        s.rec.input_tokens = (*hit)->input_tokens;
        s.rec.output_tokens = (*hit)->output_tokens;
        s.rec.cached = true;
        std::lock_guard<std::mutex> lock(mu);
        ++js.m.results["cached"];
    }
    // The stage's cost cap, for the calls still to make (all judges): once a
    // task would pass it, no more tasks are taken.
    if (setup.options.max_usd >= 0) {
        double calls = 0;
        for (const Slot& s : task.slots) {
            calls += s.done ? 0.0 : s.estimate;
        }
        if (calls > 0 && (capped || sent_estimate + calls > setup.options.max_usd + 1e-12)) {
            if (!capped) {
                judge_stage_log()->info(
                    "the estimated cost cap {} is reached ({} sent); the remaining tasks stay "
                    "pending",
                    money(setup.options.max_usd), money(sent_estimate));
            }
            capped = true;
            {
                std::lock_guard<std::mutex> lock(mu);
                cost_cap_reached = true;
            }
            leave_pending(task);
            return;
        }
    }
    if (!reserve_budgets(task, at)) {
        return;
    }
    const uint64_t id = next_task++;
    size_t remaining = 0;
    for (const Slot& s : task.slots) {
        remaining += s.done ? 0 : 1;
    }
    task.remaining = remaining;
    if (remaining == 0) {
        finalize(task);
        return;
    }
    auto [it, inserted] = tasks.emplace(id, std::move(task));
    (void)inserted;
    for (size_t i = 0; i < it->second.slots.size(); ++i) {
        if (!it->second.slots[i].done) {
            submit_or_follow(id, i, it->second.slots[i]);
        }
    }
}

void JudgeStage::Impl::submit_or_follow(uint64_t id, size_t slot_index, Slot& slot) {
    if (judges[slot.judge].rt.cache) {
        if (leading.count(slot.key) != 0) {
            followers[slot.key].emplace_back(id, slot_index);
            return;
        }
        leading.insert(slot.key);
    }
    submit(id, slot_index, slot);
}

void JudgeStage::Impl::release_followers(const std::string& key,
                                         const std::optional<JudgeVerdict>& verdict,
                                         int64_t input_tokens, int64_t output_tokens) {
    auto f = followers.find(key);
    if (f == followers.end()) {
        leading.erase(key);
        return;
    }
    std::vector<std::pair<uint64_t, size_t>> waiting = std::move(f->second);
    followers.erase(f);
    size_t next = 0;
    if (!verdict) {
        // The request failed: the first waiting slot still in a task asks for
        // itself (the key stays leading); the rest follow it.
        for (; next < waiting.size(); ++next) {
            auto t = tasks.find(waiting[next].first);
            if (t != tasks.end()) {
                submit(t->first, waiting[next].second, t->second.slots[waiting[next].second]);
                break;
            }
        }
        if (next == waiting.size()) {
            leading.erase(key);
            return;
        }
        waiting.erase(waiting.begin(), waiting.begin() + static_cast<std::ptrdiff_t>(next) + 1);
        if (!waiting.empty()) {
            followers[key] = std::move(waiting);
        }
        return;
    }
    leading.erase(key);
    for (const auto& [task_id, slot_index] : waiting) {
        auto t = tasks.find(task_id);
        if (t == tasks.end()) {
            continue;
        }
        Task& task = t->second;
        Slot& s = task.slots[slot_index];
        take_verdict(s, setup.scorers[task.scorer].spec.rubric, *verdict);
        s.rec.input_tokens = input_tokens;
        s.rec.output_tokens = output_tokens;
        s.rec.cached = true;
        s.done = true;
        {
            std::lock_guard<std::mutex> lock(mu);
            ++judges[s.judge].m.results["cached"];
        }
        if (--task.remaining == 0) {
            finalize(task);
            tasks.erase(t);
        }
    }
}

}  // namespace assay
