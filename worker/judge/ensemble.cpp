#include "judge/ensemble.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace assay {

const char* to_string(JudgeAggregate a) {
    switch (a) {
        case JudgeAggregate::mean:
            return "mean";
        case JudgeAggregate::median:
            return "median";
        case JudgeAggregate::majority:
            return "majority";
    }
    return "mean";
}

namespace {

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

}  // namespace

Result<EnsembleResult> aggregate_verdicts(const Rubric& rubric, JudgeAggregate how,
                                          const std::vector<EnsembleMember>& members) {
    if (members.empty()) {
        return Status::internal("aggregate_verdicts: no verdicts");
    }
    std::vector<double> scores;
    for (const auto& m : members) {
        scores.push_back(m.verdict.score);
    }
    std::vector<double> sorted = scores;
    std::sort(sorted.begin(), sorted.end());
    EnsembleResult r;
    r.disagreement = sorted.back() - sorted.front();
    switch (how) {
        case JudgeAggregate::mean: {
            double sum = 0;
            for (double s : scores) {
                sum += s;
            }
            r.value = sum / static_cast<double>(scores.size());
            break;
        }
        case JudgeAggregate::median: {
            const size_t n = sorted.size();
            r.value = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
            break;
        }
        case JudgeAggregate::majority: {
            std::map<double, int> votes;  // ascending: ties keep the lower score
            for (double s : scores) {
                ++votes[s];
            }
            int best = 0;
            for (const auto& [score, n] : votes) {
                if (n > best) {
                    best = n;
                    r.value = score;
                }
            }
            break;
        }
    }
    r.passed = r.value >= rubric.pass_threshold;
    if (rubric.scale.kind == RubricScale::Kind::choices) {
        for (const auto& m : members) {
            if (m.verdict.score == r.value) {
                r.label = m.verdict.choice;
                break;
            }
        }
    }
    if (r.label.empty()) {
        r.label = r.passed ? "pass" : "fail";
    }
    if (members.size() == 1) {
        const auto& m = members.front();
        r.explanation = "judge " + m.judge + ": " + m.verdict.reasoning;
        return r;
    }
    r.explanation =
        std::string(to_string(how)) + " of " + std::to_string(members.size()) + " judges:";
    for (size_t i = 0; i < members.size(); ++i) {
        const auto& m = members[i];
        r.explanation += (i ? ", " : " ") + m.judge + "=" +
                         (m.verdict.choice.empty() ? fmt(m.verdict.score) : m.verdict.choice);
    }
    r.explanation += "; disagreement (max-min) " + fmt(r.disagreement);
    return r;
}

}  // namespace assay
