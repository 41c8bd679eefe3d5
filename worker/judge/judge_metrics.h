#pragma once
// The judge stage's counters in the Prometheus text format (appended to the
// worker's GET /metrics): tasks by decision, judge results by outcome,
// attempts, tokens, cost, calls in flight and each judge's state (paused
// judges show assay_judge_paused 1). Pure function; thread-safe.

#include <string>

#include "judge/judge_stage.h"

namespace assay {

std::string render_judge_metrics(const JudgeStageMetrics& m);

}  // namespace assay
