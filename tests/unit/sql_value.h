#pragma once
// One value from a SQLite file, for tests that check what a store wrote:
// the first column of the first row of `sql`, as an integer (sql_value; -1
// when the query returns no row) or as text (sql_text; "" when no row or
// NULL). A query that does not prepare fails the test. Each call opens and
// closes its own connection; any thread.

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace assay::testing {

namespace sql_value_detail {

// Runs `sql` and calls read(stmt) on its first row, if any.
template <typename Read>
void first_row(const std::string& path, const std::string& sql, Read read) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
        const std::string why = sqlite3_errmsg(db);
        sqlite3_close(db);
        FAIL("sql_value: cannot prepare \"" << sql << "\": " << why);
        return;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        read(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

}  // namespace sql_value_detail

inline int64_t sql_value(const std::string& path, const std::string& sql) {
    int64_t n = -1;
    sql_value_detail::first_row(path, sql,
                                [&](sqlite3_stmt* st) { n = sqlite3_column_int64(st, 0); });
    return n;
}

inline std::string sql_text(const std::string& path, const std::string& sql) {
    std::string s;
    sql_value_detail::first_row(path, sql, [&](sqlite3_stmt* st) {
        if (const unsigned char* t = sqlite3_column_text(st, 0)) {
            s.assign(reinterpret_cast<const char*>(t),
                     static_cast<size_t>(sqlite3_column_bytes(st, 0)));
        }
    });
    return s;
}

}  // namespace assay::testing
