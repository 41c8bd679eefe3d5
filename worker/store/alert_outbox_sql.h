#pragma once
// SQL text both AlertStore backends share for the alerts row as the outbox
// of its notices (alert_store.h: claim_delivery, set_delivery,
// release_delivery). Each backend passes its own placeholders ("?1" in
// SQLite, "$1" in PostgreSQL), so the conditions are written once.
// Pure functions of their arguments: safe from any thread.

#include <string>

namespace assay {

// The row still has a notice to deliver (pending = 0 or failed = 3).
inline const char* k_alert_notice_pending =
    "(fire_delivered IN (0, 3) OR (state = 'resolved' AND resolve_delivered IN (0, 3)))";

// UPDATE that takes the delivery claim of one row, returning `cols`.
inline std::string alert_claim_sql(const std::string& cols, const std::string& id,
                                   const std::string& claimant, const std::string& dead_holder,
                                   const std::string& now, const std::string& until) {
    return "UPDATE alerts SET delivery_claimed_by = " + claimant +
           ", delivery_claimed_until_ms = " + until + " WHERE id = " + id + " AND " +
           k_alert_notice_pending +
           " AND (delivery_claimed_by IS NULL OR delivery_claimed_by = " + claimant +
           " OR delivery_claimed_until_ms < " + now + " OR delivery_claimed_by = " + dead_holder +
           ") RETURNING " + cols;
}

// UPDATE recording one notice's delivery, fenced on the claimant.
inline std::string alert_set_delivery_sql(bool resolve_notice, const std::string& id,
                                          const std::string& delivery, const std::string& error,
                                          const std::string& claimant) {
    return std::string("UPDATE alerts SET ") +
           (resolve_notice ? "resolve_delivered" : "fire_delivered") + " = " + delivery +
           ", delivery_error = " + error + " WHERE id = " + id +
           " AND delivery_claimed_by = " + claimant;
}

// UPDATE giving up the claimant's delivery claim.
inline std::string alert_release_sql(const std::string& id, const std::string& claimant) {
    return "UPDATE alerts SET delivery_claimed_by = NULL, delivery_claimed_until_ms = NULL "
           "WHERE id = " +
           id + " AND delivery_claimed_by = " + claimant;
}

}  // namespace assay
