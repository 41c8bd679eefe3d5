#pragma once
// SQLite's error text for a store, with the cause spelled out when SQLite
// only says "unable to open database file" or "attempt to write a readonly
// database": a read-only mount, a missing folder, or no write permission.
// Pure (reads the file system); thread-safe.

#include <string>

struct sqlite3;

namespace assay::sqlite_detail {

// sqlite3_errmsg(db) (or sqlite3_errstr(rc) when db is null), followed by
// the cause found for `path` when the error is SQLITE_CANTOPEN or
// SQLITE_READONLY ("...: unable to open database file (the file system
// holding '/mnt/ro' is mounted read-only; the store writes the database and
// its -wal and -shm files there)").
std::string error_text(sqlite3* db, int rc, const std::string& path);

}  // namespace assay::sqlite_detail
