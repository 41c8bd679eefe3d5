#pragma once
// ReviewStore: the queries `assay review`, `assay calibrate` and `assay
// export` need, behind their own seam (the pipeline's Store stays small).
// Trace data (traces, scores, scorer_versions, judgements) is only read; the
// one write is add_label() into the `labels` table.
//
// Every method returns a Status/Result and never throws. The SQLite
// implementation holds its own connection and serialises calls with a mutex:
// one object may be shared by the HTTP server's threads. The judge helper's
// `judgements` table is optional: without it, judge details are simply empty.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace assay {

// Which scored rows of one scorer a list shows. Empty strings / nullopt mean
// "no filter". scorer_version empty: the version most recently registered.
struct ReviewFilter {
    std::string scorer;
    std::string scorer_version;
    std::string feature, tenant, prompt_version, model;
    std::optional<int64_t> since_ms, until_ms;  // trace timestamp, [since, until)
    std::optional<bool> passed;
    std::optional<bool> labelled;  // has at least one label for this scorer version
};

enum class ReviewSort {
    bottom,  // failures first, then lowest value, newest first among equals (default)
    top,     // highest value first
    newest,
    oldest,
};

// "bottom" | "top" | "newest" | "oldest"; invalid_argument names the value otherwise.
Result<ReviewSort> parse_review_sort(const std::string& s);

struct ReviewRow {
    std::string trace_id;
    double value = 0;
    std::optional<bool> passed;
    std::string label;
    std::string explanation;
    std::string judge_reasoning;  // the latest judgement's reasoning, when there is one
    int64_t ts_ms = 0;
    std::string feature, tenant, prompt_version, model;
    std::string raw;     // the trace JSON, for excerpts
    int64_t labels = 0;  // labels for this trace × scorer version
};

struct ReviewList {
    std::string scorer;
    std::string scorer_version;
    std::string scorer_type;
    int64_t total = 0;  // rows matching the filter, all pages
    std::vector<ReviewRow> rows;
};

// One call of an LLM judge (the `judgements` table): JudgementRecord, store.h.

// The decision record of one scorer version for one trace.
struct DecisionRecord {
    std::string scorer, scorer_version, scorer_type;
    std::string decision;  // decisions.name: scored, filtered_out, sampled_out, ...
    std::optional<double> value;
    std::optional<bool> passed;
    std::string label, explanation, reason;
    int64_t at_ms = 0;
    std::vector<JudgementRecord> judgements;
};

struct LabelRecord {
    int64_t id = 0;
    std::string trace_id;
    std::string scorer, scorer_version;
    std::string reviewer;
    std::string verdict;  // agree | disagree | score
    std::optional<double> score;
    std::string note;
    int64_t at_ms = 0;
    std::string source = "review";  // review | calibration (the calibration queue)
};

struct TraceDetail {
    std::string trace_id;
    std::string raw;
    int64_t ts_ms = 0, received_ms = 0;
    std::vector<DecisionRecord> decisions;  // every scorer and version, by scorer name
    std::vector<LabelRecord> labels;        // newest first
};

// A label to store. scorer_version empty: the scorer's most recent version.
// verdict "score" needs score; agree/disagree ignore it. source "calibration"
// marks a trace the calibration queue picked at random.
struct NewLabel {
    std::string trace_id, scorer, scorer_version, reviewer, verdict;
    std::optional<double> score;
    std::string note;
    int64_t at_ms = 0;
    std::string source = "review";
};

// The scored traces of one scorer version that carry one verdict of the
// scorer: "fail", "pass", or "none" (scores without pass/fail).
struct VerdictStratum {
    std::string verdict;
    int64_t scored = 0;
    int64_t unlabelled = 0;  // of them, with no label for the version (when counted)
};

struct VersionStrata {
    std::string version;                 // resolved (empty asked: the latest)
    std::vector<VerdictStratum> strata;  // fail, pass, none; only those with scored traces
};

// A human label next to what the scorer said about the same trace and version.
struct CalibrationPair {
    std::string trace_id;
    std::string scorer_version;
    double value = 0;
    std::optional<bool> passed;
    std::string choice;  // scores.label
    LabelRecord human;
};

struct ScorerSummary {
    std::string scorer, version, type;
    int64_t last_seen_ms = 0;
    bool has_scores = false;  // at least one trace scored by this version
    // Filled only when !has_scores, to say why the version has none:
    int64_t pending = 0;                        // traces waiting in judge_queue for its judge
    int64_t judge_calls = 0, judge_errors = 0;  // recorded calls of its judge(s), failed ones
    std::string last_judge_error;               // "type: message" of the newest failed call
};

// Per day (UTC) of trace time: how many scored rows, their mean, pass rate.
struct TrendPoint {
    std::string feature;
    std::string day;  // YYYY-MM-DD
    int64_t n = 0;
    double mean = 0;
    std::optional<double> pass_rate;  // nullopt when no row has passed set
};

class ReviewStore {
public:
    virtual ~ReviewStore() = default;

    // Every scorer version that wrote to the store, newest first per scorer,
    // with whether it scored anything (and, when not, its pending judge work).
    virtual Result<std::vector<ScorerSummary>> scorers() = 0;
    // One page of the filtered list, and the total. not_found when the scorer
    // (or the named version) never wrote to this store.
    virtual Result<ReviewList> list(const ReviewFilter& f, ReviewSort sort, int64_t offset,
                                    int64_t limit) = 0;
    // not_found when no trace has this id.
    virtual Result<TraceDetail> trace(const std::string& trace_id) = 0;
    // Stores the label; returns its id. invalid_argument for an unknown
    // verdict or source, a "score" verdict without a score, or an empty reviewer;
    // not_found for an unknown trace or scorer (version).
    virtual Result<int64_t> add_label(const NewLabel& label) = 0;
    // Scored traces of a version (empty: latest) per verdict of the scorer;
    // `count_unlabelled` also counts those without a label (a scan of the
    // version's scores). not_found for an unknown scorer or version.
    virtual Result<VersionStrata> verdict_strata(const std::string& scorer,
                                                 const std::string& scorer_version,
                                                 bool count_unlabelled) = 0;
    // The trace id at `index` (0-based, in a fixed order) among the
    // unlabelled scored traces of the version with this verdict ("fail",
    // "pass", "none"); nullopt past the end. The calibration queue picks the
    // index at random.
    virtual Result<std::optional<std::string>> unlabelled_trace(const std::string& scorer,
                                                                const std::string& scorer_version,
                                                                const std::string& verdict,
                                                                int64_t index) = 0;
    // Labels of one scorer (all versions unless scorer_version is given), oldest first.
    virtual Result<std::vector<CalibrationPair>> calibration_pairs(
        const std::string& scorer, const std::string& scorer_version) = 0;
    // Daily points (UTC days of trace time) of one scorer version (empty:
    // latest) per feature, over the last `days` days up to the newest trace.
    virtual Result<std::vector<TrendPoint>> trends(const std::string& scorer,
                                                   const std::string& scorer_version,
                                                   int64_t days) = 0;
};

// Opens the SQLite store at `path` (which must exist), applying migrations
// first. io_error names the path on failure.
Result<std::unique_ptr<ReviewStore>> open_sqlite_review_store(const std::string& path);

// Opens the review store at `location`, the backend chosen as open_store
// does (store_location.h): a postgresql:// URI opens PostgresReviewStore, any
// other value the SQLite file (which must exist). Migrates the schema first.
// Failures name the masked location.
Result<std::unique_ptr<ReviewStore>> open_review_store(const std::string& location);

}  // namespace assay
