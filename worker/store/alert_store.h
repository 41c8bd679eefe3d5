#pragma once
// AlertStore: the `alerts` table, the state behind deduplication and
// cooldown (README "Monitoring"). One row per firing of a rule for one
// group; it is resolved once. Errors: io_error (unavailable for a lost PostgreSQL connection) with
// the database's message. One thread at a time per object.
//
// The row is also the outbox of its two notices (fire, resolve): a notice is
// pending until a delivery is recorded. Several checkers (workers, cron
// `assay alerts check`) may share the store: one delivers a row's notices
// only while it holds the row's delivery claim (claim_delivery, a lease in
// delivery_claimed_by / delivery_claimed_until_ms), and set_delivery is
// fenced on that claim, so two checkers never send the same notice at the
// same time, and a checker that died or stalled with a claim is replaced
// once its lease runs out (at once when it was a process of this host that
// no longer exists).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

// Delivery state of a notification (fire or resolve).
enum class Delivery : int { pending = 0, delivered = 1, no_webhook = 2, failed = 3 };

struct AlertRecord {
    int64_t id = 0;
    std::string rule;
    std::string kind;
    std::string group_key;
    std::string tenant;  // when grouped by tenant
    std::string state;   // firing | resolved
    int64_t fired_ms = 0;
    std::optional<int64_t> resolved_ms;
    int64_t last_eval_ms = 0;
    double value = 0, baseline = 0, p_value = 1;
    int64_t count = 0, baseline_count = 0;
    std::string message;
    Delivery fire_delivered = Delivery::pending;
    Delivery resolve_delivered = Delivery::pending;
    std::string delivery_error;
    std::string delivery_claimed_by;        // "" when no checker holds the delivery claim
    int64_t delivery_claimed_until_ms = 0;  // the claim's lease (wall clock)
};

class AlertStore {
public:
    virtual ~AlertStore() = default;
    virtual Status begin() = 0;  // BEGIN IMMEDIATE (one rule's transitions)
    virtual Status commit() = 0;
    virtual Status rollback() = 0;
    // Firing alerts of a rule.
    virtual Result<std::vector<AlertRecord>> open_alerts(const std::string& rule) = 0;
    // When the last alert of (rule, group) was resolved, if ever.
    virtual Result<std::optional<int64_t>> last_resolved(const std::string& rule,
                                                         const std::string& group_key) = 0;
    // Inserts a firing alert; returns its id.
    virtual Result<int64_t> insert(const AlertRecord& a) = 0;
    // Updates figures and last_eval_ms of a firing alert (message included).
    virtual Status touch(const AlertRecord& a) = 0;
    virtual Status resolve(int64_t id, int64_t at_ms, const std::string& message) = 0;
    // Takes the delivery claim of alert `id` for `claimant` until `until_ms`,
    // in one statement: only while the row still has a notice to deliver
    // (fire pending/failed, or resolved with the resolve pending/failed) and
    // the claim is free, already `claimant`'s, expired (its lease before
    // `now_ms`) or held by `dead_holder` (non-empty: a claimant the caller
    // found dead). Returns the row as of the claim, or nullopt when another
    // checker holds it or nothing is left to deliver.
    virtual Result<std::optional<AlertRecord>> claim_delivery(int64_t id,
                                                              const std::string& claimant,
                                                              const std::string& dead_holder,
                                                              int64_t now_ms, int64_t until_ms) = 0;
    // Records the outcome of one notice, fenced on the claim: writes only
    // while `claimant` still holds the row's delivery claim. true when
    // written; false (nothing written) when the claim was lost.
    virtual Result<bool> set_delivery(int64_t id, bool resolve_notice, Delivery d,
                                      const std::string& error, const std::string& claimant) = 0;
    // Gives up `claimant`'s delivery claim of `id` (no-op when not held).
    virtual Status release_delivery(int64_t id, const std::string& claimant) = 0;
    // Notifications not yet delivered (pending or failed), oldest first.
    virtual Result<std::vector<AlertRecord>> undelivered() = 0;
    // Newest first; limit <= 0 means all.
    virtual Result<std::vector<AlertRecord>> list(int limit) = 0;
};

// `location`: a SQLite file or a postgresql:// URI (picks the backend).
Result<std::unique_ptr<AlertStore>> open_alert_store(const std::string& location);

}  // namespace assay
