#include "judge/judge_stage.h"

#include <algorithm>

#include "core/time_format.h"
#include "judge/judge_stage_impl.h"

namespace assay {

std::shared_ptr<spdlog::logger> judge_stage_log() {
    auto log = spdlog::get("judge");
    return log ? log : spdlog::default_logger();
}

std::string JudgeStage::Impl::utc_day(int64_t ms) { return format_rfc3339_ms(ms).substr(0, 10); }

bool JudgeStage::Impl::poll() {
    flush_outcomes();  // the outcomes decided since the last poll, in one transaction
    bool took = false;
    for (size_t i = 0; i < setup.scorers.size(); ++i) {
        // With no room (or the cost cap reached) the call still renews the
        // claims of the tasks in flight (a limit of 0 claims nothing new).
        const int room = capped ? 0 : std::max(0, max_tasks - static_cast<int>(tasks.size()));
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
        for (const std::vector<Unstored>* list : {&unstored, &ready}) {
            for (const Unstored& u : *list) {
                if (u.scorer == i) {
                    skip.push_back(u.outcome.trace_id);
                }
            }
        }
        const JudgeStageScorer& sc = setup.scorers[i];
        const int64_t asked_at = ClaimLease::steady_ms();
        auto batch = store->claim_judge_tasks(sc.name, sc.version,
                                              std::min(room, setup.options.batch), skip);
        if (!batch.ok()) {
            judge_stage_log()->error("claiming from the judge queue of '{}': {}", sc.name,
                                     batch.status().message());
            continue;
        }
        leases[i].renewed(asked_at, ClaimLease::steady_ms());
        for (auto& t : *batch) {
            took = true;
            start_task(std::move(t), i);
        }
    }
    flush_outcomes();  // decisions start_task made without a call
    return took;
}

void JudgeStage::Impl::run() {
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
        if (took && static_cast<int>(tasks.size()) < max_tasks) {
            continue;
        }
        std::unique_lock<std::mutex> lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(setup.options.poll_ms),
                    [&] { return stopping || !done.empty() || idle_request != asked; });
    }
}

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
                    judge_stage_log()->warn(
                        "judge '{}' is disabled: {}; its sampled traces stay pending", name,
                        state.disabled_reason);
                }
                it = index.emplace(name, m.judges.size()).first;
                m.judges.push_back(std::move(state));
            }
            js.push_back(it->second);
        }
        m.scorer_judges.push_back(std::move(js));
        m.leases.emplace_back(m.setup.store.judge_lease_ms);
    }
    int concurrency = 0;
    for (const auto& js : m.judges) {
        concurrency += std::max(1, js.rt.transport.max_concurrency);
    }
    m.max_tasks = std::max(1, std::min(m.setup.options.max_in_flight, 2 * concurrency));
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
    m.flush_outcomes();  // a last try; else their tasks are judged again after the lease
    std::lock_guard<std::mutex> lock(m.clients_mu);
    for (auto& js : m.judges) {
        if (js.client) {
            const JudgeClientStatus st = js.client->status();
            js.final_state = to_string(st.state);
            js.final_reason = st.pause_reason;
        }
        js.client.reset();  // cancels what is in flight; those tasks stay pending
    }
    // The stage thread is gone: free the budget the cancelled calls held.
    std::vector<int64_t> held;
    for (auto& [id, task] : m.tasks) {
        held.insert(held.end(), task.reservations.begin(), task.reservations.end());
        task.reservations.clear();
    }
    if (m.store && !held.empty()) {
        if (Status st = m.store->release_judge_budget(held); !st.ok()) {
            judge_stage_log()->warn("releasing budget reservations: {} (they lapse with the lease)",
                                    st.message());
        }
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
    out.cost_cap_reached = m.cost_cap_reached;
    for (size_t i = 0; i < m.judges.size(); ++i) {
        JudgeStageMetrics::Judge j = m.judges[i].m;
        j.state = states[i].first;
        j.pause_reason = states[i].second;
        out.judges.push_back(std::move(j));
    }
    return out;
}

}  // namespace assay
