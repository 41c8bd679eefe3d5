#pragma once
// What the judge stage needs from a configured `type: judge` scorer: its
// loaded rubric, the judges of its ensemble and how their scores combine.
// The judge scorer (scorers/judge/) is a DeferredScorer that implements
// JudgeScorerInfo; find it with judge_scorer_spec(). Immutable after startup; safe to
// read from any thread.

#include <string>
#include <vector>

#include "core/scorer.h"
#include "judge/rubric.h"

namespace assay {

enum class JudgeAggregate { mean, median, majority };
const char* to_string(JudgeAggregate a);

struct JudgeScorerSpec {
    Rubric rubric;
    std::vector<std::string> judges;  // names from the top-level `judges:` list
    JudgeAggregate aggregate = JudgeAggregate::mean;
    // Self-consistency: each judge is asked this many times (1..20, default
    // 1); every sample is one judgement row and one ensemble member.
    int samples = 1;
};

class JudgeScorerInfo : public DeferredScorer {
public:
    virtual const JudgeScorerSpec& judge_spec() const = 0;
};

// The spec of a judge scorer, or nullptr when `scorer` is not one.
inline const JudgeScorerSpec* judge_scorer_spec(const DeferredScorer* scorer) {
    const auto* info = dynamic_cast<const JudgeScorerInfo*>(scorer);
    return info != nullptr ? &info->judge_spec() : nullptr;
}

}  // namespace assay
