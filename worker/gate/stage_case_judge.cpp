#include "gate/stage_case_judge.h"

#include "core/clock.h"
#include "core/text.h"
#include "judge/judge_stage.h"
#include "pipeline/scorer_set.h"
#include "store/store.h"

namespace assay::gate {

StageCaseJudge::StageCaseJudge(const StoreOptions& store, const std::vector<JudgeSpec>& judges,
                               const std::vector<ConfiguredScorer>& scorers,
                               std::chrono::milliseconds timeout)
    : m_store(store), m_judges(judges), m_scorers(scorers), m_timeout(timeout) {}

Result<std::vector<JudgeOutcome>> StageCaseJudge::judge(const std::vector<JudgeRequest>& requests) {
    std::vector<JudgeOutcome> out(requests.size());
    if (requests.empty()) {
        return out;
    }
    auto store = open_store(m_store);
    if (!store.ok()) {
        return store.status();
    }
    ASSAY_RETURN_IF_ERROR((*store)->register_scorers(version_infos(m_scorers)));

    // One stored trace per (side, case); one task per request.
    WriteBatch batch;
    std::vector<std::string> ids(requests.size());
    const int64_t now = now_ms();
    for (size_t i = 0; i < requests.size(); ++i) {
        const JudgeRequest& r = requests[i];
        ids[i] = r.side + "/" + r.trace->trace_id;
        int32_t index = -1;
        for (size_t t = 0; t < batch.traces.size(); ++t) {
            if (batch.traces[t].trace_id == ids[i]) {
                index = static_cast<int32_t>(t);
            }
        }
        if (index < 0) {
            Trace t = *r.trace;
            t.trace_id = ids[i];
            t.received_ms = now;
            if (!t.timestamp_given) {
                t.timestamp_ms = now;
            }
            index = static_cast<int32_t>(batch.traces.size());
            batch.traces.push_back(std::move(t));
        }
        batch.judge_tasks.push_back({ids[i], r.scorer->name, r.scorer->version, now, index});
    }
    ASSAY_RETURN_IF_ERROR((*store)->write(batch));

    auto setup = judge_stage_setup(m_store, m_judges, m_scorers);
    if (!setup.ok()) {
        return setup.status();
    }
    auto stage = JudgeStage::create(std::move(*setup));
    if (!stage.ok()) {
        return stage.status();
    }
    (*stage)->start();
    const bool idle = (*stage)->wait_idle(m_timeout);
    (*stage)->stop();

    for (size_t i = 0; i < requests.size(); ++i) {
        auto stored = (*store)->trace(ids[i]);
        if (!stored.ok()) {
            return stored.status();
        }
        const ScoreRow* row = nullptr;
        for (const auto& r : stored->rows) {
            if (r.scorer == requests[i].scorer->name &&
                r.scorer_version == requests[i].scorer->version) {
                row = &r;
            }
        }
        JudgeOutcome& o = out[i];
        if (row == nullptr || row->decision == Decision::pending) {
            o.error =
                idle ? "not judged: the judge is paused or disabled (see `assay judges status`)"
                     : "not judged within the gate's judge timeout";
        } else if (row->decision == Decision::scored && row->score) {
            o.score = row->score;
        } else if (row->decision == Decision::skipped_budget) {
            o.skipped_budget = true;
            o.error = row->reason;
        } else {
            o.error = std::string(to_string(row->decision)) +
                      (row->reason.empty() ? "" : ": " + row->reason);
        }
    }
    return out;
}

}  // namespace assay::gate
