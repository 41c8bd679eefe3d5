#pragma once
// PgConn: one libpq connection (RAII) with parameterised statements only, and
// PgParams/PgResult to bind and read them. Internal to worker/store/postgres.
//
// Every statement goes through PQexecParams: values travel as parameters
// ($1, $2, ...), never spliced into SQL text. Text parameters are sent in
// text format; bytes() parameters in binary format (bytea that may hold any
// byte). Results come back in text format.
//
// Errors are Status values whose message names the masked URI
// (store_location.h), what was being done and the server's message; a lost
// connection is `unavailable` (retrying may help), anything else io_error.
// A lost connection is made again before the next statement outside a
// transaction (ensure_connected()).
// One thread at a time per object; open one per thread. Never throws.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/status.h"

namespace assay::pg {

// The parameters of one statement. Each add_* appends one and returns its
// placeholder ("$n"), so a statement can be built row by row.
class PgParams {
public:
    // A NUL byte is sent as U+FFFD (text holds no NUL), a byte that is not part
    // of UTF-8 as the text \xNN (a UTF8 database refuses it, and the batch).
    std::string text(std::string_view v);
    std::string text_or_null(std::string_view v);  // empty -> NULL
    std::string integer(int64_t v);
    std::string real(double v);  // round-trips; NaN and infinities too
    std::string null();
    std::string bytes(std::string_view v);  // binary format (bytea)
    template <typename T>
    std::string opt(const std::optional<T>& v) {
        if (!v) {
            return null();
        }
        if constexpr (std::is_floating_point_v<T>) {
            return real(*v);
        } else {
            return integer(static_cast<int64_t>(*v));
        }
    }
    size_t size() const { return m_values.size(); }

private:
    friend class PgConn;
    std::string add(std::optional<std::string> v, int format);
    std::vector<std::optional<std::string>> m_values;
    std::vector<int> m_formats;
};

// Owns one PGresult. Row and column indexes start at 0.
class PgResult {
public:
    explicit PgResult(PGresult* r) : m_r(r, &PQclear) {}
    int rows() const { return PQntuples(m_r.get()); }
    bool null(int row, int col) const { return PQgetisnull(m_r.get(), row, col) != 0; }
    std::string text(int row, int col) const;
    int64_t integer(int row, int col) const;  // 0 for NULL
    double real(int row, int col) const;      // 0 for NULL
    std::optional<double> opt_real(int row, int col) const;
    std::optional<bool> opt_bool(int row, int col) const;  // integer 0/1 or NULL
    int64_t affected() const;                              // PQcmdTuples

private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> m_r;
};

class PgConn {
public:
    // Connects to `uri` (libpq also reads the PG* environment variables and
    // ~/.pgpass). io_error/unavailable naming the masked URI on failure.
    static Result<std::unique_ptr<PgConn>> connect(const std::string& uri);
    ~PgConn();
    PgConn(const PgConn&) = delete;
    PgConn& operator=(const PgConn&) = delete;

    // Runs one statement with `params`; `what` names the work in errors.
    Result<PgResult> exec(const std::string& sql, const PgParams& params, const std::string& what);
    // SQL text without parameters (several statements allowed: migrations).
    Result<PgResult> exec(const std::string& sql, const std::string& what);
    // Runs `copy_sql` (a `COPY table (columns) FROM STDIN` statement) and
    // sends `data` (text format, see copy_rows.h) as its input. OK once the
    // server has taken every row; else the server's message.
    Status copy_in(const std::string& copy_sql, std::string_view data, const std::string& what);
    // The masked URI (for messages).
    const std::string& where() const { return m_where; }

    // Reconnects (one attempt, same parameters) when the connection was
    // lost; OK when connected. unavailable naming the server's message when
    // it cannot. exec() and copy_in() do this themselves before a statement
    // outside a transaction (PgTxn); inside one they fail `unavailable`
    // instead, so a transaction is never continued on a new connection.
    Status ensure_connected();
    // Changes whenever ensure_connected() made a new connection: session
    // state (temporary tables, settings) must be set up again.
    uint64_t generation() const { return m_generation; }

private:
    friend class PgTxn;
    PgConn(PGconn* c, std::string where) : m_c(c), m_where(std::move(where)) {}
    Status set_up_session();
    Status reconnect_outside_transaction(const std::string& what);
    Status failure(const std::string& what, const PGresult* r) const;
    // `raw` as a result when the statement succeeded; else the failure (and
    // `raw` is freed).
    Result<PgResult> checked(PGresult* raw, const std::string& what);
    PGconn* m_c;
    std::string m_where;
    uint64_t m_generation = 0;
    bool m_in_transaction = false;  // between PgTxn::begin() and its end
    mutable bool m_lost = false;    // failure() saw the connection go; reset before reuse
};

// RAII transaction: BEGIN on begin(), ROLLBACK unless commit() ran.
class PgTxn {
public:
    explicit PgTxn(PgConn& c) : m_c(c) {}
    ~PgTxn();
    Status begin();
    Status commit();

private:
    PgConn& m_c;
    bool m_open = false;
};

}  // namespace assay::pg
