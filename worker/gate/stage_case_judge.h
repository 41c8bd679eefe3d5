#pragma once
// StageCaseJudge: the gate's CaseJudge on top of the worker's JudgeStage
// (judge/judge_stage.h), so `assay gate` judges with exactly the clients,
// rubrics, redaction, cache, concurrency, retries and budgets the worker
// uses.
//
// judge() stores each request's trace under the id "<side>/<case id>" (the
// ids `assay gate --db` stores its sides under) in the gate's store, queues
// one judge task per request, runs a JudgeStage until the queue holds
// nothing it can run, and reads each task's decision back:
//   scored                 -> the score (passed from the rubric threshold);
//   skipped_budget         -> an outcome with skipped_budget set;
//   failed, skipped_missing_input, or still pending (a paused judge, e.g. a
//   missing API key) -> an outcome with `error` naming why.
// The store keeps judge_cache, so a second run over the same outputs is
// answered from the cache: identical and free.
//
// Failure: invalid_argument/io_error when the store cannot be opened or the
// judge setup is unusable (the gate exits 2). Thread safety: one call at a
// time; the stage uses its own threads inside the call.

#include <chrono>
#include <string>
#include <vector>

#include "gate/case_judge.h"
#include "llm/judge_spec.h"
#include "pipeline/scorer_set.h"
#include "store/store.h"

namespace assay::gate {

class StageCaseJudge final : public CaseJudge {
public:
    // `store`, `judges` and `scorers` (the loaded config's) must outlive this
    // object; `store` names the store (the gate's --db, or a scratch file the
    // caller owns). `timeout` bounds one side's judging.
    StageCaseJudge(const StoreOptions& store, const std::vector<JudgeSpec>& judges,
                   const std::vector<ConfiguredScorer>& scorers, std::chrono::milliseconds timeout);
    Result<std::vector<JudgeOutcome>> judge(const std::vector<JudgeRequest>& requests) override;

private:
    const StoreOptions& m_store;
    const std::vector<JudgeSpec>& m_judges;
    const std::vector<ConfiguredScorer>& m_scorers;
    std::chrono::milliseconds m_timeout;
};

}  // namespace assay::gate
