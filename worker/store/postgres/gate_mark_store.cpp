// PostgresGateMarkStore: GateMarkStore (gate_mark_store.h) over the
// `gate_marks` table of the PostgreSQL store (migration 6, same columns and
// key as on SQLite). One connection (pg::connect_store) guarded by a mutex:
// the review server's threads share the object. A mark is one upsert, so
// reviewers on several review servers writing the same case at once leave
// exactly one row, the last write's.
#include "store/gate_mark_store.h"

#include <mutex>

#include "store/postgres/conn.h"
#include "store/postgres/open.h"

namespace assay {

namespace {

using pg::PgConn;
using pg::PgParams;

class PostgresGateMarkStore final : public GateMarkStore {
public:
    explicit PostgresGateMarkStore(std::unique_ptr<PgConn> c) : m_c(std::move(c)) {}

    Status set_gate_mark(const GateMark& m) override {
        ASSAY_RETURN_IF_ERROR(check_gate_mark(m));
        PgParams p;
        const std::string sql =
            "INSERT INTO gate_marks (gate_run, case_id, mark, note, reviewer, at_ms) VALUES (" +
            p.text(m.gate_run) + ", " + p.text(m.case_id) + ", " + p.text(m.mark) + ", " +
            p.text(m.note) + ", " + p.text(m.reviewer) + ", " + p.integer(m.at_ms) +
            ") ON CONFLICT (gate_run, case_id) DO UPDATE SET mark = excluded.mark, "
            "note = excluded.note, reviewer = excluded.reviewer, at_ms = excluded.at_ms";
        std::lock_guard lock(m_mu);
        return m_c->exec(sql, p, "storing the gate mark").status();
    }

    Result<std::vector<GateMark>> gate_marks(const std::string& gate_run) override {
        PgParams p;
        // COLLATE "C": case ids in byte order, as SQLite sorts them.
        const std::string sql =
            "SELECT case_id, mark, note, reviewer, at_ms FROM gate_marks WHERE gate_run = " +
            p.text(gate_run) + " ORDER BY case_id COLLATE \"C\"";
        std::lock_guard lock(m_mu);
        auto r = m_c->exec(sql, p, "reading gate marks");
        if (!r.ok()) {
            return r.status();
        }
        std::vector<GateMark> out;
        out.reserve(static_cast<size_t>(r->rows()));
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back({gate_run, r->text(i, 0), r->text(i, 1), r->text(i, 2), r->text(i, 3),
                           r->integer(i, 4)});
        }
        return out;
    }

private:
    std::mutex m_mu;
    std::unique_ptr<PgConn> m_c;
};

}  // namespace

Result<std::unique_ptr<GateMarkStore>> open_postgres_gate_mark_store(const std::string& uri) {
    auto c = pg::connect_store(uri);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<GateMarkStore>(
        std::make_unique<PostgresGateMarkStore>(std::move(c.value())));
}

}  // namespace assay
