// SqliteGateMarkStore: GateMarkStore over the `gate_marks` table of the
// SQLite store. Its own connection, parameterised SQL only.
#include "store/gate_mark_store.h"

#include <sqlite3.h>

#include <mutex>

#include "store/sqlite/conn.h"
#include "store/store_location.h"

namespace assay {

namespace {

class SqliteGateMarkStore final : public GateMarkStore {
public:
    explicit SqliteGateMarkStore(std::unique_ptr<SqliteConn> c) : m_c(std::move(c)) {}

    Status set_gate_mark(const GateMark& m) override {
        ASSAY_RETURN_IF_ERROR(check_gate_mark(m));
        std::lock_guard lock(m_mu);
        auto st = m_c->prepare(
            "INSERT INTO gate_marks (gate_run, case_id, mark, note, reviewer, at_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (gate_run, case_id) DO UPDATE SET "
            "mark = excluded.mark, note = excluded.note, reviewer = excluded.reviewer, "
            "at_ms = excluded.at_ms");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, m.gate_run);
        st->bind_text(2, m.case_id);
        st->bind_text(3, m.mark);
        st->bind_text(4, m.note);
        st->bind_text(5, m.reviewer);
        st->bind_int(6, m.at_ms);
        return m_c->run(*st, "storing the gate mark");
    }

    Result<std::vector<GateMark>> gate_marks(const std::string& gate_run) override {
        std::lock_guard lock(m_mu);
        auto st = m_c->prepare(
            "SELECT case_id, mark, note, reviewer, at_ms FROM gate_marks WHERE gate_run = ?1 "
            "ORDER BY case_id");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, gate_run);
        std::vector<GateMark> out;
        int rc = 0;
        while ((rc = st->step()) == SQLITE_ROW) {
            out.push_back({gate_run, st->col_text(0), st->col_text(1), st->col_text(2),
                           st->col_text(3), st->col_int(4)});
        }
        if (rc != SQLITE_DONE) {
            return m_c->error("reading gate marks");
        }
        return out;
    }

private:
    std::mutex m_mu;
    std::unique_ptr<SqliteConn> m_c;
};

}  // namespace

Result<std::unique_ptr<GateMarkStore>> open_sqlite_gate_mark_store(const std::string& path) {
    ASSAY_RETURN_IF_ERROR(sqlite_only(path, "keeping gate marks (assay review --gate-report)"));
    auto c = SqliteConn::open(path);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<GateMarkStore>(
        std::make_unique<SqliteGateMarkStore>(std::move(c.value())));
}

}  // namespace assay
