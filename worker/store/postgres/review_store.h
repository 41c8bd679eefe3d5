#pragma once
// PostgresReviewStore: ReviewStore (store/review_store.h) on PostgreSQL 15
// through libpq, with the same meaning, order and messages as the SQLite
// one. Parameterised SQL only; the one write is add_label() into `labels`.
// Text ties are ordered COLLATE "C" (byte order, as SQLite).
//
// The list and the trace page are in review_store.cpp; labels, the
// calibration queue, calibration pairs and trends in review_store_labels.cpp.
//
// One connection; calls are serialised by a mutex, so one object may be
// shared by the review server's threads. Never throws.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/review_store.h"

namespace assay::pg {
class PgConn;
}

namespace assay {

class PostgresReviewStore final : public ReviewStore {
public:
    // Connects to `uri` (a postgresql:// URI) and migrates the schema, as
    // PostgresStore::open does (a password in the URI is refused; messages
    // show the masked URI).
    static Result<std::unique_ptr<PostgresReviewStore>> open(const std::string& uri);
    ~PostgresReviewStore() override;

    Result<std::vector<ScorerSummary>> scorers() override;
    Result<ReviewList> list(const ReviewFilter& f, ReviewSort sort, int64_t offset,
                            int64_t limit) override;
    Result<TraceDetail> trace(const std::string& trace_id) override;
    Result<int64_t> add_label(const NewLabel& label) override;
    Result<VersionStrata> verdict_strata(const std::string& scorer,
                                         const std::string& scorer_version,
                                         bool count_unlabelled) override;
    Result<std::optional<std::string>> unlabelled_trace(const std::string& scorer,
                                                        const std::string& scorer_version,
                                                        const std::string& verdict,
                                                        int64_t index) override;
    Result<std::vector<CalibrationPair>> calibration_pairs(
        const std::string& scorer, const std::string& scorer_version) override;
    Result<std::vector<TrendPoint>> trends(const std::string& scorer,
                                           const std::string& scorer_version,
                                           int64_t days) override;

private:
    struct Version {
        int64_t id = 0;
        std::string version, type;
    };
    explicit PostgresReviewStore(std::unique_ptr<pg::PgConn> conn);
    // The scorer's named version, or its most recent one when `version` is
    // empty; not_found naming them when the scorer never wrote here.
    Result<Version> resolve_version(const std::string& scorer, const std::string& version);
    // Pending judge tasks and recorded judge calls of one scorer version.
    Status judge_work(int64_t version_id, ScorerSummary& v);
    Result<std::vector<JudgementRecord>> judgements(int64_t trace_row, int64_t version_id);
    // The list's rows for the score rows of `ids` (traces.id), in that order.
    Result<std::vector<ReviewRow>> list_rows(const std::vector<int64_t>& ids, int64_t version_id);

    std::mutex m_mu;
    std::unique_ptr<pg::PgConn> m_conn;
};

}  // namespace assay
