// PostgresStore: the daily judge budget shared by every worker of one
// database (store.h, reserve_judge_budget). A transaction-scoped advisory lock
// per (judge, day) serialises reservations across workers, so reading the
// spend and the live reservations and inserting the new one are one step.
#include "core/clock.h"
#include "store/postgres/conn.h"
#include "store/postgres/store.h"

namespace assay {

using pg::PgParams;

Result<BudgetReservation> PostgresStore::reserve_judge_budget(const std::string& judge,
                                                              const std::string& day,
                                                              double amount_usd,
                                                              double budget_usd) {
    BudgetReservation out;
    const int64_t now = now_ms();
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    PgParams lp;
    const std::string lock = "SELECT pg_advisory_xact_lock(hashtextextended(" +
                             lp.text("assay-judge-budget\n" + judge + "\n" + day) + "::text, 0))";
    ASSAY_RETURN_IF_ERROR(m_conn->exec(lock, lp, "locking judge '" + judge + "' budget").status());
    PgParams dp;
    const std::string drop = "DELETE FROM judge_reservations WHERE judge = " + dp.text(judge) +
                             " AND day = " + dp.text(day) + " AND expires_ms < " + dp.integer(now);
    ASSAY_RETURN_IF_ERROR(m_conn->exec(drop, dp, "dropping expired budget reservations").status());
    PgParams sp;
    const std::string j = sp.text(judge);
    const std::string d = sp.text(day);
    const std::string sum =
        "SELECT coalesce((SELECT cost_usd FROM judge_spend WHERE judge = " + j + " AND day = " + d +
        "), 0), coalesce((SELECT sum(amount_usd) FROM judge_reservations WHERE judge = " + j +
        " AND day = " + d + "), 0)";
    auto r = m_conn->exec(sum, sp, "reading judge '" + judge + "' budget");
    if (!r.ok()) {
        return r.status();
    }
    out.spent = r->real(0, 0);
    out.reserved = r->real(0, 1);
    if (out.spent + out.reserved + amount_usd > budget_usd + 1e-12) {
        ASSAY_RETURN_IF_ERROR(txn.commit());
        return out;
    }
    PgParams ip;
    const std::string ins =
        "INSERT INTO judge_reservations (judge, day, claimant, amount_usd, expires_ms) VALUES (" +
        ip.text(judge) + ", " + ip.text(day) + ", " + ip.text(m_claimant) + ", " +
        ip.real(amount_usd) + ", " + ip.integer(now + m_judge_lease_ms) + ") RETURNING id";
    auto id = m_conn->exec(ins, ip, "reserving judge '" + judge + "' budget");
    if (!id.ok()) {
        return id.status();
    }
    ASSAY_RETURN_IF_ERROR(txn.commit());
    out.granted = true;
    out.id = id->integer(0, 0);
    return out;
}

Status PostgresStore::release_judge_budget(const std::vector<int64_t>& ids) {
    if (ids.empty()) {
        return {};
    }
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    ASSAY_RETURN_IF_ERROR(release_budget_locked(ids));
    return txn.commit();
}

}  // namespace assay
