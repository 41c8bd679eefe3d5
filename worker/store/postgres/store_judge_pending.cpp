// PostgresStore: the LLM-judge methods of store.h, not yet on PostgreSQL
// (issue 13; README, PostgreSQL). Each refuses with invalid_argument naming
// what is missing, so `assay score`/`worker` with a judge scorer stops at
// start with that message instead of running without its judge.
#include "store/postgres/conn.h"
#include "store/postgres/store.h"

namespace assay {

Status PostgresStore::not_yet(const char* what) const {
    return Status::invalid_argument("store '" + m_conn->where() + "': " + what +
                                    " is not yet implemented on PostgreSQL (LLM judges need a "
                                    "SQLite store for now; README, PostgreSQL)");
}

Result<std::vector<PendingJudgeTask>> PostgresStore::claim_judge_tasks(
    const std::string&, const std::string&, int, const std::vector<std::string>&) {
    return not_yet("the judge queue");
}
Result<std::vector<PendingJudgeTask>> PostgresStore::queued_judge_tasks(const std::string&,
                                                                        const std::string&) {
    return not_yet("the judge queue");
}
Status PostgresStore::write_judge_outcome(const JudgeOutcome&) { return not_yet("judgements"); }
Status PostgresStore::record_llm_calls(const std::vector<JudgeCacheEntry>&,
                                       const std::vector<JudgeSpend>&) {
    return not_yet("the judge cache and spend");
}
Result<std::optional<JudgeCacheEntry>> PostgresStore::judge_cache_get(const std::string&) {
    return not_yet("the judge cache");
}
Result<JudgeSpend> PostgresStore::judge_spend(const std::string&, const std::string&) {
    return not_yet("judge spend");
}
Result<JudgeStatusReport> PostgresStore::judge_status(const std::string&, int) {
    return not_yet("judge status");
}
Result<std::vector<BackfillCandidate>> PostgresStore::backfill_candidates(const BackfillQuery&) {
    return not_yet("backfill");
}

}  // namespace assay
