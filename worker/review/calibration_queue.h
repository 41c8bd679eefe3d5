#pragma once
// The calibration queue: traces for reviewers to label that make the
// calibration numbers mean something. It samples a version's unlabelled
// scored traces at random, stratified by the scorer's verdict: each pick goes
// to the verdict (fail, pass, none) with the fewest calibration-queue labels
// so far (ties: fail, then pass, then none) that still has unlabelled traces,
// and takes one of them uniformly at random. Labels given from the queue are
// stored with source "calibration" (see calibration.h for what they measure).
// Reads the store only; thread-safe when the store is.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/review_store.h"

namespace assay::review {

struct QueueStratum {
    std::string verdict;       // fail | pass | none
    int64_t scored = 0;        // scored traces of the version with this verdict
    int64_t unlabelled = 0;    // of them, without a label
    int64_t queue_labels = 0;  // labels already given from the queue
};

struct QueueItem {
    std::string trace_id;
    std::string verdict;
};

struct CalibrationQueue {
    std::string scorer, version;
    std::vector<QueueStratum> strata;
    std::vector<QueueItem> items;  // up to the number asked; fewer when the strata run out
};

// Up to `n` distinct traces of the queue of `scorer` (version empty: the
// latest). not_found for an unknown scorer or version; other store errors.
Result<CalibrationQueue> sample_calibration_queue(ReviewStore& store, const std::string& scorer,
                                                  const std::string& scorer_version, int64_t n,
                                                  std::mt19937_64& rng);

// The workspace link (path and query, under assay review's URL) that opens
// `item` in calibration-queue mode, as the workspace itself writes it:
// /?scorer=S&scorer_version=V&queue=calibration&id=T (values percent-encoded).
std::string workspace_link(const CalibrationQueue& q, const QueueItem& item);

// Each trace with its workspace "link".
nlohmann::json to_json(const CalibrationQueue& q);

}  // namespace assay::review
