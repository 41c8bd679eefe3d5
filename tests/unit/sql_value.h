#pragma once
// One number from a SQLite file, for tests that check what a store wrote:
// the first column of the first row of `sql` as an integer, or -1 when the
// query returns no row. A query that does not prepare fails the test.
// Opens and closes its own connection; any thread.

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace assay::testing {

inline int64_t sql_value(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
        const std::string why = sqlite3_errmsg(db);
        sqlite3_close(db);
        FAIL("sql_value: cannot prepare \"" << sql << "\": " << why);
        return -1;
    }
    int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

}  // namespace assay::testing
