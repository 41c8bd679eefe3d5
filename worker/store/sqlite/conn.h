#pragma once
// SqliteConn: a small RAII connection and prepared-statement wrapper for the
// stores beside the main one (aggregates, alerts, maintenance, review). Opening migrates the
// schema through SqliteStore first, so every table of this assay exists.
// One thread at a time per object; open one per thread. Never throws.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace assay {

class SqlStmt {
public:
    SqlStmt() = default;
    SqlStmt(const SqlStmt&) = delete;
    SqlStmt& operator=(const SqlStmt&) = delete;
    SqlStmt(SqlStmt&& o) noexcept : m_s(o.m_s) { o.m_s = nullptr; }
    ~SqlStmt();

    void bind_text(int i, std::string_view v);
    void bind_int(int i, int64_t v);
    void bind_double(int i, double v);
    void bind_null(int i);
    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step();
    void reset();
    std::string col_text(int i) const;
    int64_t col_int(int i) const;
    double col_double(int i) const;
    bool col_null(int i) const;
    std::optional<double> col_opt_double(int i) const;  // nullopt for NULL
    std::optional<bool> col_opt_bool(int i) const;      // nullopt for NULL, else != 0
    int columns() const;
    std::string col_name(int i) const;

private:
    friend class SqliteConn;
    sqlite3_stmt* m_s = nullptr;
};

class SqliteConn {
public:
    // Opens `path` (migrating it first), with WAL and a busy timeout.
    // io_error names the path.
    static Result<std::unique_ptr<SqliteConn>> open(const std::string& path,
                                                    int busy_timeout_ms = 5000);
    ~SqliteConn();

    // Prepares one statement; io_error carries SQLite's message.
    Result<SqlStmt> prepare(const std::string& sql);
    // Runs SQL text (several statements allowed, no parameters).
    Status exec(const std::string& sql);
    // Moves the WAL's pages into the main file and empties the WAL (a
    // TRUNCATE checkpoint), so that rewritten (erased, pruned) content is
    // not left in it. SQLite reports a checkpoint it could not finish
    // (another connection's checkpoint running, e.g. a worker's checkpoint
    // thread, or a reader on an old snapshot past the busy timeout) as a row
    // with busy = 1, not as an error: this tries again for about a second,
    // then leaves the rest to the next checkpoint (still OK). io_error only
    // when SQLite fails.
    Status truncate_wal();
    // Whether a table (or view) of this name exists.
    Result<bool> has_table(const std::string& name);
    // Steps a prepared statement to completion; io_error on failure.
    Status run(SqlStmt& st, const std::string& what);
    Status error(const std::string& what) const;
    int64_t changes() const;
    const std::string& path() const { return m_path; }
    sqlite3* raw() const { return m_db; }

private:
    SqliteConn(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}
    sqlite3* m_db;
    std::string m_path;
};

// RAII transaction: BEGIN IMMEDIATE on begin(), ROLLBACK unless commit() ran.
class SqlTxn {
public:
    explicit SqlTxn(SqliteConn& c) : m_c(c) {}
    ~SqlTxn();
    Status begin();
    Status commit();

private:
    SqliteConn& m_c;
    bool m_open = false;
};

}  // namespace assay
