#pragma once
// The busy handler of every SQLite connection of the store.
//
// SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5, 10, 15, 20, 25 ms ...
// between tries, so a connection that finds the file locked for a moment by
// another connection of the same process (the worker's span commits, trace
// writer, claims and checkpoints each have their own) wakes up to 25 ms after
// the lock was released. This one tries again after 50 µs, 100 µs, 200 µs,
// 500 µs, then every millisecond, and gives up (SQLITE_BUSY) once the total
// reaches `timeout_ms`, as busy_timeout does.

#include <sqlite3.h>

namespace assay::sqlite_detail {

// Installs the handler on `db` (replacing any busy timeout). Never fails.
// Thread safety: as sqlite3_busy_handler (call before the connection is
// shared).
void set_busy_wait(sqlite3* db, int timeout_ms);

// The handler's total sleep, in microseconds, before its `count`-th try
// (count as SQLite passes it: 0 on the first call). Exposed for the tests.
long long busy_wait_slept_us(int count);

}  // namespace assay::sqlite_detail
