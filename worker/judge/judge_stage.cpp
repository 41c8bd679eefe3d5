#include "judge/judge_stage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/time_format.h"
#include "core/trace_json.h"
#include "judge/committed_traces.h"
#include "judge/ensemble.h"
#include "judge/judge_redaction.h"
#include "judge/reply_parser.h"
#include "judge/rubric.h"
#include "llm/judge_client.h"
#include "store/store.h"

namespace assay {

namespace {

std::shared_ptr<spdlog::logger> judge_log() {
    auto log = spdlog::get("judge");
    return log ? log : spdlog::default_logger();
}

std::string utc_day(int64_t ms) { return format_rfc3339_ms(ms).substr(0, 10); }

std::string money(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.4f", v);
    return buf;
}

// Errors that leave the task pending: nothing is wrong with the trace.
bool leaves_pending(JudgeError e) {
    return e == JudgeError::paused || e == JudgeError::auth || e == JudgeError::billing ||
           e == JudgeError::unknown_model || e == JudgeError::unsupported_parameter ||
           e == JudgeError::cancelled || e == JudgeError::circuit_open;
}

}  // namespace

struct JudgeStage::Impl {
    CommittedTraces committed;
    struct JudgeState {
        JudgeRuntime rt;
        std::unique_ptr<JudgeClient> client;
        std::string disabled_reason;  // set when there is no client
        std::string final_state;      // the client's state when stop() released it
        std::string final_reason;
        bool pause_logged = false;
        std::string day;         // the UTC day spent_today is for
        double spent_today = 0;  // stored spend of `day`, plus what this stage wrote
        double reserved = 0;     // estimated cost of calls in flight
        JudgeStageMetrics::Judge m;
    };
    struct Slot {
        size_t judge = 0;
        std::string member;  // the ensemble member's name: the judge, or judge#i for samples
        JudgeRequest request;
        std::string key;
        double estimate = 0;
        int parse_tries = 0;
        bool done = false;
        bool keep_pending = false;
        std::optional<JudgeVerdict> verdict;
        JudgementRecord rec;
        std::optional<JudgeCacheEntry> cache_entry;
    };
    struct Task {
        PendingJudgeTask task;
        size_t scorer = 0;
        std::vector<Slot> slots;
        size_t remaining = 0;
    };
    struct Completion {
        uint64_t task = 0;
        size_t slot = 0;
        JudgeResult result;
    };

    JudgeStageSetup setup;
    std::unique_ptr<Store> store;
    std::vector<JudgeState> judges;
    std::vector<std::vector<size_t>> scorer_judges;  // scorer index -> judge indexes
    std::map<uint64_t, Task> tasks;                  // stage thread only
    // Tasks whose outcome could not be stored: not taken again by this stage
    // (they stay queued for the next run), so a failing store never makes
    // the stage call a judge over and over for the same trace.
    std::set<std::pair<size_t, std::string>> unwritable;
    uint64_t next_task = 1;

    mutable std::mutex mu;  // guards below and JudgeState::m / state strings
    std::condition_variable cv;
    std::condition_variable idle_cv;
    std::vector<Completion> done;
    bool stopping = false;
    bool started = false;
    uint64_t idle_request = 0;
    uint64_t idle_seen = 0;
    std::map<std::string, uint64_t> task_counts;
    std::map<std::string, ScorerTally> by_scorer;
    uint64_t in_flight = 0;
    std::thread thread;
    std::mutex clients_mu;  // guards client pointers against stop() for metrics()

    int64_t now() const { return setup.clock_ms ? setup.clock_ms() : now_ms(); }

    void count_task(size_t scorer, const std::optional<ScoreRow>& row) {
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

    // Is this judge usable now? Logs a pause once.
    bool available(JudgeState& js) {
        if (!js.client) {
            return false;
        }
        const JudgeClientStatus st = js.client->status();
        if (st.state == JudgeClientStatus::State::paused) {
            if (!js.pause_logged) {
                js.pause_logged = true;
                judge_log()->warn(
                    "judge '{}' is paused: {}; its sampled traces stay pending until it is "
                    "re-enabled (fix the key, billing or model and restart)",
                    js.rt.transport.name, st.pause_reason);
            }
            return false;
        }
        return st.state != JudgeClientStatus::State::circuit_open;
    }

    void refresh_day(JudgeState& js, int64_t at) {
        const std::string day = utc_day(at);
        if (day == js.day) {
            return;
        }
        js.day = day;
        auto s = store->judge_spend(js.rt.transport.name, day);
        js.spent_today = s.ok() ? s->cost_usd : 0.0;
        if (!s.ok()) {
            judge_log()->error("judge '{}': reading today's spend: {}", js.rt.transport.name,
                               s.status().message());
        }
    }

    JudgementRecord base_record(const JudgeState& js, const Rubric& rubric, int64_t at) const {
        JudgementRecord rec;
        rec.judge = js.rt.transport.name;
        rec.model = js.rt.transport.model;
        rec.rubric = rubric.name;
        rec.rubric_version = rubric.version;
        rec.rubric_hash = rubric.content_hash;
        rec.at_ms = at;
        return rec;
    }

    void write_final(Task& task, Decision decision, const std::string& reason) {
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
            judge_log()->error("trace {}: storing the {} decision of scorer '{}': {}", o.trace_id,
                               to_string(decision), sc.name, st.message());
            unwritable.emplace(task.scorer, o.trace_id);
            return;
        }
        count_task(task.scorer, o.score);
    }

    // Every slot is done: aggregate and store.
    void finalize(Task& task) {
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
            judge_log()->error("trace {}: storing judgements of scorer '{}': {}", o.trace_id,
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

    void submit(uint64_t id, size_t slot_index, Slot& slot) {
        JudgeState& js = judges[slot.judge];
        js.reserved += slot.estimate;
        js.client->submit(slot.request, [this, id, slot_index](JudgeResult r) {
            std::lock_guard<std::mutex> lock(mu);
            done.push_back({id, slot_index, std::move(r)});
            cv.notify_all();
        });
    }

    // Takes one queued task: decisions that need no call are stored at once.
    void start_task(PendingJudgeTask pt, size_t scorer) {
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
            const double in_tokens = static_cast<double>(system.size() + prompt.size()) / 4.0;
            for (int i = 1; i <= samples; ++i) {
                Slot s;
                s.judge = j;
                s.member = js.rt.transport.name;
                s.key = judge_cache_key(js.rt.transport, rubric, system, prompt);
                s.request = JudgeRequest{system, prompt, task.task.trace_id};
                if (samples > 1) {
                    // Each sample is its own request: its own seed and cache entry.
                    s.member += "#" + std::to_string(i);
                    s.request.seed = i;
                    s.key = judge_cache_key(js.rt.transport, rubric, system,
                                            prompt + "\nsample " + std::to_string(i));
                }
                s.estimate = (in_tokens * js.rt.transport.price.input_per_mtok +
                              js.rt.transport.max_tokens * js.rt.transport.price.output_per_mtok) /
                             1e6;
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
                judge_log()->warn("trace {}: judge cache lookup failed: {}", task.task.trace_id,
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
            s.verdict = *v;
            s.rec.score = v->score;
            s.rec.passed = v->score >= rubric.pass_threshold;
            s.rec.choice = v->choice;
            s.rec.reasoning = v->reasoning;
            s.rec.input_tokens = (*hit)->input_tokens;
            s.rec.output_tokens = (*hit)->output_tokens;
            s.rec.cached = true;
            std::lock_guard<std::mutex> lock(mu);
            ++js.m.results["cached"];
        }
        // Budgets, for the calls still to make (summed per judge).
        std::map<size_t, double> need;
        for (const Slot& s : task.slots) {
            if (!s.done && judges[s.judge].rt.daily_budget_usd > 0) {
                need[s.judge] += s.estimate;
            }
        }
        for (const auto& [j, cost] : need) {
            JudgeState& js = judges[j];
            refresh_day(js, at);
            if (js.spent_today + js.reserved + cost > js.rt.daily_budget_usd) {
                write_final(task, Decision::skipped_budget,
                            "judge '" + js.rt.transport.name + "' reached its daily budget: " +
                                money(js.spent_today) + " spent and " + money(js.reserved) +
                                " in flight of " + money(js.rt.daily_budget_usd) + " on " + js.day +
                                " (UTC); sampled traces are skipped until the next UTC day");
                return;
            }
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
                submit(id, i, it->second.slots[i]);
            }
        }
    }

    void complete(Completion c) {
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
        if (r.ok()) {
            auto v = parse_reply(rubric, r.text);
            if (v.ok()) {
                outcome = "ok";
                s.verdict = *v;
                s.rec.score = v->score;
                s.rec.passed = v->score >= rubric.pass_threshold;  // never the judge's own words
                s.rec.choice = v->choice;
                s.rec.reasoning = v->reasoning;
                if (js.rt.cache) {
                    s.cache_entry =
                        JudgeCacheEntry{s.key,  js.rt.transport.name, js.rt.transport.model,
                                        r.text, r.input_tokens,       r.output_tokens,
                                        now()};
                }
            } else if (s.parse_tries == 0) {
                s.parse_tries = 1;
                {
                    std::lock_guard<std::mutex> lock(mu);
                    ++js.m.results["parse_retry"];
                    js.m.attempts += static_cast<uint64_t>(r.attempts);
                    js.m.input_tokens += r.input_tokens;
                    js.m.output_tokens += r.output_tokens;
                    js.m.reasoning_tokens += r.reasoning_tokens;
                    js.m.cost_usd += r.cost_usd;
                }
                judge_log()->info("trace {}: judge '{}' reply did not parse ({}); asking once more",
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
        {
            std::lock_guard<std::mutex> lock(mu);
            ++js.m.results[outcome];
            js.m.attempts += static_cast<uint64_t>(r.attempts);
            js.m.input_tokens += r.input_tokens;
            js.m.output_tokens += r.output_tokens;
            js.m.reasoning_tokens += r.reasoning_tokens;
            js.m.cost_usd += r.cost_usd;
        }
        s.done = true;
        if (--task.remaining == 0) {
            finalize(task);
            tasks.erase(it);
        }
    }

    // Reads runnable tasks and starts them; true if any was taken.
    bool poll() {
        bool took = false;
        for (size_t i = 0; i < setup.scorers.size(); ++i) {
            // With no room the call still renews the claims of the tasks in
            // flight (a limit of 0 claims nothing new).
            const int room =
                std::max(0, setup.options.max_in_flight - static_cast<int>(tasks.size()));
            bool ok = true;
            for (size_t j : scorer_judges[i]) {
                ok = available(judges[j]) && ok;
            }
            if (!ok) {
                continue;  // its tasks stay pending
            }
            std::vector<std::string> skip;
            for (const auto& [id, t] : tasks) {
                if (t.scorer == i) {
                    skip.push_back(t.task.trace_id);
                }
            }
            for (const auto& [scorer, trace_id] : unwritable) {
                if (scorer == i) {
                    skip.push_back(trace_id);
                }
            }
            const JudgeStageScorer& sc = setup.scorers[i];
            auto batch = store->claim_judge_tasks(sc.name, sc.version,
                                                  std::min(room, setup.options.batch), skip);
            if (!batch.ok()) {
                judge_log()->error("claiming from the judge queue of '{}': {}", sc.name,
                                   batch.status().message());
                continue;
            }
            for (auto& t : *batch) {
                took = true;
                start_task(std::move(t), i);
            }
        }
        return took;
    }

    void run() {
        while (true) {
            uint64_t asked = 0;
            std::vector<Completion> batch;
            {
                std::lock_guard<std::mutex> lock(mu);
                if (stopping) {
                    break;
                }
                asked = idle_request;
                batch.swap(done);
            }
            for (auto& c : batch) {
                complete(std::move(c));
            }
            const bool took = poll();
            {
                std::lock_guard<std::mutex> lock(mu);
                in_flight = tasks.size();
                if (!took && tasks.empty() && asked > idle_seen) {
                    idle_seen = asked;
                    idle_cv.notify_all();
                }
            }
            if (took && static_cast<int>(tasks.size()) < setup.options.max_in_flight) {
                continue;
            }
            std::unique_lock<std::mutex> lock(mu);
            cv.wait_for(lock, std::chrono::milliseconds(setup.options.poll_ms),
                        [&] { return stopping || !done.empty() || idle_request != asked; });
        }
    }
};

JudgeStage::JudgeStage(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

JudgeStage::~JudgeStage() { stop(); }

Result<std::unique_ptr<JudgeStage>> JudgeStage::create(JudgeStageSetup setup) {
    auto impl = std::make_unique<Impl>();
    impl->setup = std::move(setup);
    Impl& m = *impl;
    if (!m.setup.scorers.empty()) {
        auto store = open_store(m.setup.store);
        if (!store.ok()) {
            return store.status();
        }
        m.store = std::move(store).value();
        std::vector<ScorerVersionInfo> versions;
        for (const auto& sc : m.setup.scorers) {
            versions.push_back({sc.name, sc.version, "judge", sc.config_json});
        }
        ASSAY_RETURN_IF_ERROR(m.store->register_scorers(versions));
    }
    std::map<std::string, size_t> index;
    for (const auto& sc : m.setup.scorers) {
        std::vector<size_t> js;
        for (const auto& name : sc.spec.judges) {
            auto it = index.find(name);
            if (it == index.end()) {
                const JudgeRuntime* rt = nullptr;
                for (const auto& r : m.setup.judges) {
                    rt = r.transport.name == name ? &r : rt;
                }
                if (rt == nullptr) {
                    return Status::invalid_argument("scorer '" + sc.name + "': no judge named '" +
                                                    name + "'");
                }
                Impl::JudgeState state;
                state.rt = *rt;
                state.m.name = name;
                auto client = rt->redact.any() && !m.setup.redactor
                                  ? Result<std::unique_ptr<JudgeClient>>(Status::invalid_argument(
                                        "PII redaction (key 'redact', on by default) is not "
                                        "available in this "
                                        "build; set redact: false to send trace text unredacted"))
                                  : make_judge_client(rt->transport);
                if (client.ok()) {
                    state.client = std::move(client).value();
                } else {
                    state.disabled_reason = client.status().message();
                    judge_log()->warn("judge '{}' is disabled: {}; its sampled traces stay pending",
                                      name, state.disabled_reason);
                }
                it = index.emplace(name, m.judges.size()).first;
                m.judges.push_back(std::move(state));
            }
            js.push_back(it->second);
        }
        m.scorer_judges.push_back(std::move(js));
    }
    return std::unique_ptr<JudgeStage>(new JudgeStage(std::move(impl)));
}

void JudgeStage::offer(std::vector<std::shared_ptr<const Trace>> traces) {
    if (!traces.empty()) {
        m_impl->committed.add(std::move(traces));
    }
}

bool JudgeStage::has_work() const { return !m_impl->setup.scorers.empty(); }

void JudgeStage::start() {
    Impl& m = *m_impl;
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.started || m.setup.scorers.empty()) {
        return;
    }
    m.started = true;
    m.thread = std::thread([&m] { m.run(); });
}

bool JudgeStage::wait_idle(std::chrono::milliseconds timeout) {
    Impl& m = *m_impl;
    std::unique_lock<std::mutex> lock(m.mu);
    if (m.setup.scorers.empty()) {
        return true;
    }
    if (!m.started || m.stopping) {
        return false;
    }
    const uint64_t ticket = ++m.idle_request;
    m.cv.notify_all();
    return m.idle_cv.wait_for(lock, timeout, [&] { return m.idle_seen >= ticket || m.stopping; }) &&
           m.idle_seen >= ticket;
}

void JudgeStage::stop() {
    Impl& m = *m_impl;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        m.stopping = true;
        m.cv.notify_all();
        m.idle_cv.notify_all();
    }
    if (m.thread.joinable()) {
        m.thread.join();
    }
    std::lock_guard<std::mutex> lock(m.clients_mu);
    for (auto& js : m.judges) {
        if (js.client) {
            const JudgeClientStatus st = js.client->status();
            js.final_state = to_string(st.state);
            js.final_reason = st.pause_reason;
        }
        js.client.reset();  // cancels what is in flight; those tasks stay pending
    }
}

JudgeStageMetrics JudgeStage::metrics() const {
    Impl& m = *m_impl;
    JudgeStageMetrics out;
    std::vector<std::pair<std::string, std::string>> states;
    {
        std::lock_guard<std::mutex> lock(m.clients_mu);
        for (const auto& js : m.judges) {
            if (!js.client && !js.final_state.empty()) {
                states.emplace_back(js.final_state, js.final_reason);
            } else if (!js.client) {
                states.emplace_back("disabled", js.disabled_reason);
            } else {
                const JudgeClientStatus st = js.client->status();
                states.emplace_back(to_string(st.state), st.pause_reason);
            }
        }
    }
    std::lock_guard<std::mutex> lock(m.mu);
    out.tasks = m.task_counts;
    out.by_scorer = m.by_scorer;
    out.in_flight = m.in_flight;
    for (size_t i = 0; i < m.judges.size(); ++i) {
        JudgeStageMetrics::Judge j = m.judges[i].m;
        j.state = states[i].first;
        j.pause_reason = states[i].second;
        out.judges.push_back(std::move(j));
    }
    return out;
}

}  // namespace assay
