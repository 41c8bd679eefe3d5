#pragma once
// The two Store backends for parametrised tests (doctest TEST_CASE_TEMPLATE
// over SqliteBackend and PostgresBackend; case names end in "<sqlite>" or
// "<postgres>"). B::make() gives a fresh, empty store location: a file in a
// temporary folder, or a new database on the test PostgreSQL server, which
// is ASSAY_TEST_PG_URI (set by tests/support/pg_server.py run, the
// `unit.postgres` ctest) or else a private server this process starts once
// with tests/support/pg_server.py and stops at exit. Without the server
// binaries a postgres case fails naming the reason (ctest's unit.postgres
// is skipped instead). TestDb::value() reads one number from the store.
// Test thread only.

#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "sql_value.h"
#include "store/store.h"
#include "temp_dir.h"

namespace assay::testing {

// The admin URI (database `postgres`) of the test server, "" when none can
// be had (then `why` says why).
class PgTestServer {
public:
    static PgTestServer& get() {
        static PgTestServer s;
        return s;
    }
    const std::string& admin_uri() const { return m_uri; }
    const std::string& why() const { return m_why; }
    ~PgTestServer() {
        if (!m_dir.empty()) {
            std::string cmd = "python3 '" + script() + "' stop '" + m_dir + "' >/dev/null 2>&1";
            (void)std::system(cmd.c_str());
        }
    }

private:
    static std::string script() {
        return std::string(ASSAY_SOURCE_DIR) + "/tests/support/pg_server.py";
    }
    PgTestServer() {
        if (const char* u = std::getenv("ASSAY_TEST_PG_URI"); u != nullptr && *u != '\0') {
            m_uri = u;
            return;
        }
        char tmpl[] = "/tmp/assay-pg-unit-XXXXXX";
        if (mkdtemp(tmpl) == nullptr) {
            m_why = "cannot make a temporary folder";
            return;
        }
        m_dir = tmpl;
        std::string cmd = "python3 '" + script() + "' start '" + m_dir + "' 2>&1";
        FILE* p = popen(cmd.c_str(), "r");
        std::string out;
        char buf[512];
        while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) {
            out += buf;
        }
        const int rc = p != nullptr ? pclose(p) : -1;
        while (!out.empty() && out.back() == '\n') {
            out.pop_back();
        }
        if (rc == 0 && out.rfind("postgresql://", 0) == 0) {
            m_uri = out;
        } else {
            m_why = "could not start a PostgreSQL server: " + out;
        }
    }
    std::string m_uri, m_why, m_dir;
};

// One number from a PostgreSQL database: the first column of the first row
// as an integer, -1 when no row; a failing query fails the test.
inline int64_t pg_value(const std::string& uri, const std::string& sql) {
    PGconn* c = PQconnectdb(uri.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        const std::string why = PQerrorMessage(c);
        PQfinish(c);
        FAIL("pg_value: cannot connect: " << why);
        return -1;
    }
    PGresult* r = PQexec(c, sql.c_str());
    int64_t n = -1;
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const std::string why = PQresultErrorMessage(r);
        PQclear(r);
        PQfinish(c);
        FAIL("pg_value: \"" << sql << "\": " << why);
        return -1;
    }
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        const std::string v = PQgetvalue(r, 0, 0);
        n = v == "t" ? 1 : v == "f" ? 0 : std::strtoll(v.c_str(), nullptr, 10);
    }
    PQclear(r);
    PQfinish(c);
    return n;
}

// A fresh store location and a way to read numbers from it.
class TestDb {
public:
    virtual ~TestDb() = default;
    virtual const std::string& location() const = 0;
    virtual int64_t value(const std::string& sql) const = 0;
    StoreOptions options() const {
        StoreOptions o;
        o.sqlite_path = location();
        return o;
    }
};

class SqliteTestDb final : public TestDb {
public:
    SqliteTestDb() : m_path(m_dir.file("store.db")) {}
    const std::string& location() const override { return m_path; }
    int64_t value(const std::string& sql) const override { return sql_value(m_path, sql); }

private:
    TempDir m_dir;
    std::string m_path;
};

class PostgresTestDb final : public TestDb {
public:
    PostgresTestDb() {
        auto& server = PgTestServer::get();
        REQUIRE_MESSAGE(!server.admin_uri().empty(), server.why());
        static std::atomic<int> k_next{0};
        m_name = "assay_t" + std::to_string(getpid()) + "_" + std::to_string(k_next++);
        m_admin = server.admin_uri();
        pg_value(m_admin, "CREATE DATABASE " + m_name);
        m_uri = m_admin.substr(0, m_admin.rfind('/') + 1) + m_name;
    }
    ~PostgresTestDb() override {
        PGconn* c = PQconnectdb(m_admin.c_str());
        PQclear(PQexec(c, ("DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)").c_str()));
        PQfinish(c);
    }
    const std::string& location() const override { return m_uri; }
    int64_t value(const std::string& sql) const override { return pg_value(m_uri, sql); }

private:
    std::string m_admin, m_name, m_uri;
};

struct SqliteBackend {
    static std::unique_ptr<TestDb> make() { return std::make_unique<SqliteTestDb>(); }
};
struct PostgresBackend {
    static std::unique_ptr<TestDb> make() { return std::make_unique<PostgresTestDb>(); }
};

}  // namespace assay::testing

TYPE_TO_STRING_AS("sqlite", assay::testing::SqliteBackend);
TYPE_TO_STRING_AS("postgres", assay::testing::PostgresBackend);
