#include "core/scorer.h"

#include <exception>

namespace assay {

Result<Score> score_guarded(const Scorer& scorer, const Trace& trace) {
    try {
        return scorer.score(trace);
    } catch (const std::exception& e) {
        return Status::internal(std::string("scorer threw: ") + e.what());
    } catch (...) {
        return Status::internal("scorer threw an unknown exception");
    }
}

}  // namespace assay
