#include "store/sqlite/conn.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "store/sqlite/busy_wait.h"
#include "store/sqlite/open_error.h"
#include "store/sqlite/store.h"

namespace assay {

SqlStmt::~SqlStmt() { sqlite3_finalize(m_s); }

void SqlStmt::bind_text(int i, std::string_view v) {
    sqlite3_bind_text(m_s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void SqlStmt::bind_int(int i, int64_t v) { sqlite3_bind_int64(m_s, i, v); }
void SqlStmt::bind_double(int i, double v) { sqlite3_bind_double(m_s, i, v); }
void SqlStmt::bind_null(int i) { sqlite3_bind_null(m_s, i); }
int SqlStmt::step() { return sqlite3_step(m_s); }
void SqlStmt::reset() {
    sqlite3_reset(m_s);
    sqlite3_clear_bindings(m_s);
}
std::string SqlStmt::col_text(int i) const {
    auto* p = sqlite3_column_text(m_s, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(m_s, i)))
             : std::string();
}
int64_t SqlStmt::col_int(int i) const { return sqlite3_column_int64(m_s, i); }
double SqlStmt::col_double(int i) const { return sqlite3_column_double(m_s, i); }
bool SqlStmt::col_null(int i) const { return sqlite3_column_type(m_s, i) == SQLITE_NULL; }
std::optional<double> SqlStmt::col_opt_double(int i) const {
    return col_null(i) ? std::nullopt : std::optional<double>(col_double(i));
}
std::optional<bool> SqlStmt::col_opt_bool(int i) const {
    return col_null(i) ? std::nullopt : std::optional<bool>(col_int(i) != 0);
}
int SqlStmt::columns() const { return sqlite3_column_count(m_s); }
std::string SqlStmt::col_name(int i) const {
    const char* n = sqlite3_column_name(m_s, i);
    return n ? n : "";
}

Result<std::unique_ptr<SqliteConn>> SqliteConn::open(const std::string& path, int busy_timeout_ms) {
    {
        // Creates and migrates the schema (every table of this assay).
        StoreOptions o;
        o.sqlite_path = path;
        o.busy_timeout_ms = busy_timeout_ms;
        auto s = SqliteStore::open(o);
        if (!s.ok()) {
            return s.status();
        }
    }
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = sqlite_detail::error_text(db, rc, path);
        sqlite3_close_v2(db);
        return Status::io_error("cannot open store '" + path + "': " + msg);
    }
    std::unique_ptr<SqliteConn> c(new SqliteConn(db, path));
    sqlite_detail::set_busy_wait(db, busy_timeout_ms);
    // Temporary B-trees (the GROUP BY of an aggregates refresh over a busy
    // hour, the erase and prune work tables) spill to temporary files beyond
    // the page cache: in memory they took the worker's RSS from 186 MiB to
    // 302 MiB while refreshing 1M traces.
    ASSAY_RETURN_IF_ERROR(
        c->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                "PRAGMA foreign_keys = OFF; PRAGMA temp_store = FILE"));
    return c;
}

SqliteConn::~SqliteConn() { sqlite3_close_v2(m_db); }

Status SqliteConn::error(const std::string& what) const {
    return Status::io_error("sqlite '" + m_path + "': " + what + ": " +
                            sqlite_detail::error_text(m_db, 0, m_path));
}

Result<SqlStmt> SqliteConn::prepare(const std::string& sql) {
    SqlStmt st;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st.m_s, nullptr) != SQLITE_OK) {
        return error("preparing statement");
    }
    return st;
}

Status SqliteConn::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        sqlite3_free(err);  // the same text as sqlite3_errmsg, which error_text reads
        return Status::io_error("sqlite '" + m_path +
                                "': " + sqlite_detail::error_text(m_db, 0, m_path));
    }
    return {};
}

Status SqliteConn::truncate_wal() {
    for (int attempt = 0;; ++attempt) {
        auto st = prepare("PRAGMA wal_checkpoint(TRUNCATE)");
        if (!st.ok()) {
            return st.status();
        }
        if (st->step() != SQLITE_ROW) {
            return error("checkpointing the WAL");
        }
        if (st->col_int(0) == 0 || attempt >= 50) {
            return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Result<bool> SqliteConn::has_table(const std::string& name) {
    auto st = prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1");
    if (!st.ok()) {
        return st.status();
    }
    st->bind_text(1, name);
    int rc = st->step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return error("reading sqlite_master");
    }
    return rc == SQLITE_ROW;
}

Status SqliteConn::run(SqlStmt& st, const std::string& what) {
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        Status e = error(what);
        st.reset();
        return e;
    }
    st.reset();
    return {};
}

int64_t SqliteConn::changes() const { return sqlite3_changes64(m_db); }

SqlTxn::~SqlTxn() {
    if (m_open) {
        (void)m_c.exec("ROLLBACK");  // best effort in a destructor
    }
}

Status SqlTxn::begin() {
    ASSAY_RETURN_IF_ERROR(m_c.exec("BEGIN IMMEDIATE"));
    m_open = true;
    return {};
}

Status SqlTxn::commit() {
    ASSAY_RETURN_IF_ERROR(m_c.exec("COMMIT"));
    m_open = false;
    return {};
}

}  // namespace assay
