#include "test_scorers.h"

#include <stdexcept>

#include "core/scorer_registry.h"

namespace assay {
namespace {

class TestLen final : public Scorer {
public:
    explicit TestLen(int64_t max) : m_max(max) {}
    Result<Score> score(const Trace& t) const override {
        if (t.output.empty()) {
            return Status::missing_input("output is empty");
        }
        if (t.output == "boom") {
            return Status::internal("exploded");
        }
        if (t.output == "throw") {
            throw std::runtime_error("library blew up");
        }
        if (t.metadata.get("kind") == std::optional<std::string>("skip")) {
            return Status::not_applicable("kind is skip");
        }
        auto n = static_cast<int64_t>(t.output.size());
        return Score{static_cast<double>(n), n <= m_max, n <= m_max ? "ok" : "long",
                     std::to_string(n) + " bytes"};
    }

private:
    int64_t m_max;
};

class TestJudge final : public DeferredScorer {};

Result<std::unique_ptr<Scorer>> make_len(ConfigBlock& b) {
    int64_t max = b.get_int("max").value_or(10);
    if (max < 0) {
        b.fail("max", "must be >= 0");
    }
    return std::unique_ptr<Scorer>(new TestLen(max));
}

Result<std::unique_ptr<DeferredScorer>> make_judge(ConfigBlock& b) {
    (void)b.get_string("rubric");
    return std::unique_ptr<DeferredScorer>(new TestJudge());
}

ASSAY_REGISTER_SCORER((ScorerType{
    "test_len", "test", 3, 1.0, {{"max", "number", "default 10"}}, &make_len}));
ASSAY_REGISTER_SCORER((ScorerType{"test_judge", "test", 1, -1.0, {}, nullptr, &make_judge}));

}  // namespace
}  // namespace assay
