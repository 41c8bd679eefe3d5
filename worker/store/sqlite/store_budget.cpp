// SqliteStore: the daily judge budget shared by every worker of one file
// (store.h, reserve_judge_budget). BEGIN IMMEDIATE serialises reservations
// across connections and processes, so the check and the insert are one step.
#include <sqlite3.h>

#include "core/clock.h"
#include "store/sqlite/stmt.h"
#include "store/sqlite/store.h"

namespace assay {

using sqlite_detail::Stmt;

Result<BudgetReservation> SqliteStore::reserve_judge_budget(const std::string& judge,
                                                            const std::string& day,
                                                            double amount_usd, double budget_usd) {
    BudgetReservation out;
    const int64_t now = now_ms();
    Status st = in_write_txn([&]() -> Status {
        Stmt drop;
        if (drop.prepare(m_db, "DELETE FROM judge_reservations WHERE expires_ms < ?1") !=
            SQLITE_OK) {
            return error("preparing expired reservation cleanup");
        }
        drop.bind_int(1, now);
        if (drop.step() != SQLITE_DONE) {
            return error("dropping expired budget reservations");
        }
        Stmt sum;
        if (sum.prepare(m_db,
                        "SELECT coalesce((SELECT cost_usd FROM judge_spend WHERE judge = ?1 AND "
                        "day = ?2), 0), coalesce((SELECT sum(amount_usd) FROM judge_reservations "
                        "WHERE judge = ?1 AND day = ?2), 0)") != SQLITE_OK) {
            return error("preparing judge budget read");
        }
        sum.bind_text(1, judge);
        sum.bind_text(2, day);
        if (sum.step() != SQLITE_ROW) {
            return error("reading judge '" + judge + "' budget");
        }
        out.spent = sum.col_double(0);
        out.reserved = sum.col_double(1);
        if (out.spent + out.reserved + amount_usd > budget_usd + 1e-12) {
            return {};
        }
        Stmt ins;
        if (ins.prepare(m_db,
                        "INSERT INTO judge_reservations (judge, day, claimant, amount_usd, "
                        "expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)") != SQLITE_OK) {
            return error("preparing budget reservation");
        }
        ins.bind_text(1, judge);
        ins.bind_text(2, day);
        ins.bind_text(3, m_claimant);
        ins.bind_double(4, amount_usd);
        ins.bind_int(5, now + m_judge_lease_ms);
        if (ins.step() != SQLITE_DONE) {
            return error("reserving judge '" + judge + "' budget");
        }
        out.granted = true;
        out.id = sqlite3_last_insert_rowid(m_db);
        return {};
    });
    if (!st.ok()) {
        return st;
    }
    return out;
}

Status SqliteStore::release_budget_locked(const std::vector<int64_t>& ids) {
    Stmt del;
    if (!ids.empty() &&
        del.prepare(m_db, "DELETE FROM judge_reservations WHERE id = ?1") != SQLITE_OK) {
        return error("preparing budget settlement");
    }
    for (int64_t id : ids) {
        del.reset();
        del.bind_int(1, id);
        if (del.step() != SQLITE_DONE) {
            return error("settling budget reservation " + std::to_string(id));
        }
    }
    return {};
}

Status SqliteStore::release_judge_budget(const std::vector<int64_t>& ids) {
    if (ids.empty()) {
        return {};
    }
    return in_write_txn([&] { return release_budget_locked(ids); });
}

}  // namespace assay
