#pragma once
// Scorer outcomes for the gate's unit tests (verdict and report renderers).

#include "gate/side_result.h"

namespace assay::gate::testing {

// A pass_fail outcome: value 1 and "ok" when passed, else value 0 and "broken".
inline ScorerOutcome pf(bool passed) {
    ScorerOutcome o;
    o.decision = "scored";
    o.value = passed ? 1.0 : 0.0;
    o.passed = passed;
    o.explanation = passed ? "ok" : "broken";
    return o;
}

}  // namespace assay::gate::testing
