// store/sqlite/busy_wait.h: the busy handler of the store's SQLite connections.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "store/sqlite/busy_wait.h"
#include "temp_dir.h"

using assay::sqlite_detail::busy_wait_slept_us;
using assay::sqlite_detail::set_busy_wait;
using assay::testing::TempDir;
using namespace std::chrono_literals;

namespace {

sqlite3* open_db(const std::string& path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr) == SQLITE_OK);
    return db;
}

}  // namespace

TEST_CASE("sqlite busy wait: short sleeps first, then every millisecond") {
    CHECK(busy_wait_slept_us(0) == 0);
    CHECK(busy_wait_slept_us(1) == 50);
    CHECK(busy_wait_slept_us(2) == 150);
    CHECK(busy_wait_slept_us(4) == 850);
    CHECK(busy_wait_slept_us(5) == 1850);
    CHECK(busy_wait_slept_us(104) == 850 + 100 * 1000);
}

TEST_CASE("sqlite busy wait: a locked store is waited for, up to the timeout") {
    TempDir dir;
    const std::string path = dir.file("busy.db");
    sqlite3* a = open_db(path);
    sqlite3* b = open_db(path);
    REQUIRE(sqlite3_exec(a, "CREATE TABLE t (x INTEGER)", nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(a, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);

    // Held past the timeout: SQLITE_BUSY, after waiting about the timeout.
    set_busy_wait(b, 200);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(sqlite3_exec(b, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_BUSY);
    CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);

    // Released while waiting: the waiter gets the lock and writes.
    set_busy_wait(b, 30000);
    std::thread release([&] {
        std::this_thread::sleep_for(100ms);
        sqlite3_exec(a, "COMMIT", nullptr, nullptr, nullptr);
    });
    CHECK(sqlite3_exec(b, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1); COMMIT", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
    release.join();

    // A timeout of 0 fails at once, as sqlite3_busy_timeout(db, 0) does.
    REQUIRE(sqlite3_exec(a, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    set_busy_wait(b, 0);
    CHECK(sqlite3_exec(b, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_BUSY);
    REQUIRE(sqlite3_exec(a, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(b);
    sqlite3_close(a);
}
