#include "store/postgres/conn.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/text.h"
#include "store/store_location.h"

namespace assay::pg {

std::string PgParams::add(std::optional<std::string> v, int format) {
    m_values.push_back(std::move(v));
    m_formats.push_back(format);
    return "$" + std::to_string(m_values.size());
}

std::string PgParams::text(std::string_view v) {
    // A UTF8 database refuses a text value that is not UTF-8, and with it the
    // whole batch: a byte that is not part of UTF-8 is written as \xNN (a
    // dead letter's message may quote the bad bytes it names).
    std::string escaped;
    if (find_invalid_utf8(v) != std::string_view::npos) {
        escaped = escape_invalid_utf8(v);
        v = escaped;
    }
    // PostgreSQL text cannot hold NUL, and libpq would cut a text parameter at
    // the first one: each becomes U+FFFD, so a trace whose JSON strings decode
    // to a NUL (\u0000) is stored whole. The raw JSON keeps the escape itself.
    if (v.find('\0') == std::string_view::npos) {
        return add(std::string(v), 0);
    }
    std::string out;
    out.reserve(v.size() + 8);
    for (char c : v) {
        if (c == '\0') {
            out += "\xEF\xBF\xBD";
        } else {
            out += c;
        }
    }
    return add(std::move(out), 0);
}
std::string PgParams::text_or_null(std::string_view v) { return v.empty() ? null() : text(v); }
std::string PgParams::integer(int64_t v) { return add(std::to_string(v), 0); }
std::string PgParams::real(double v) {
    if (std::isnan(v)) {
        return add("NaN", 0);
    }
    if (std::isinf(v)) {
        return add(v > 0 ? "Infinity" : "-Infinity", 0);
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    return add(std::string(buf, r.ptr), 0);
}
std::string PgParams::null() { return add(std::nullopt, 0); }
std::string PgParams::bytes(std::string_view v) { return add(std::string(v), 1); }

std::string PgResult::text(int row, int col) const {
    return std::string(PQgetvalue(m_r.get(), row, col),
                       static_cast<size_t>(PQgetlength(m_r.get(), row, col)));
}
int64_t PgResult::integer(int row, int col) const {
    return null(row, col) ? 0 : std::strtoll(PQgetvalue(m_r.get(), row, col), nullptr, 10);
}
double PgResult::real(int row, int col) const {
    return null(row, col) ? 0.0 : std::strtod(PQgetvalue(m_r.get(), row, col), nullptr);
}
std::optional<double> PgResult::opt_real(int row, int col) const {
    return null(row, col) ? std::nullopt : std::optional<double>(real(row, col));
}
std::optional<bool> PgResult::opt_bool(int row, int col) const {
    return null(row, col) ? std::nullopt : std::optional<bool>(integer(row, col) != 0);
}
int64_t PgResult::affected() const { return std::strtoll(PQcmdTuples(m_r.get()), nullptr, 10); }

Result<std::unique_ptr<PgConn>> PgConn::connect(const std::string& uri) {
    const std::string where = mask_store_location(uri);
    PGconn* c = PQconnectdb(uri.c_str());
    if (c == nullptr) {
        return Status::io_error("postgresql '" + where + "': out of memory connecting");
    }
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(c);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
        PQfinish(c);
        // libpq's message names host and port, never the password.
        return Status::unavailable("cannot connect to PostgreSQL store '" + where + "': " + msg);
    }
    std::unique_ptr<PgConn> conn(new PgConn(c, where));
    ASSAY_RETURN_IF_ERROR(conn->set_up_session());
    return conn;
}

Status PgConn::set_up_session() {
    // Messages and numbers in a fixed form whatever the server's defaults.
    // No transaction of Assay's waits on anything but the database, so one
    // left idle for 5 s means a stalled or cut-off process (SIGSTOP, a
    // network cut): the server ends that session, which releases its row
    // locks, so that other workers' FOR UPDATE SKIP LOCKED claims see the
    // rows again once the claims' lease has run out. A timeout the DBA or
    // the URI (options=-c ...) already set is kept.
    return checked(PQexec(m_c,
                          "SET client_min_messages = warning; SET extra_float_digits = 3; "
                          "SET TIME ZONE 'UTC'; "
                          "SELECT set_config('idle_in_transaction_session_timeout', '5s', false) "
                          "WHERE current_setting('idle_in_transaction_session_timeout') = '0'"),
                   "setting up the session")
        .status();
}

Status PgConn::ensure_connected() {
    if (PQstatus(m_c) == CONNECTION_OK && !m_lost) {
        return {};
    }
    // Lost (server restarted, network cut, backend terminated): one new
    // connection with the same parameters. Nothing of the old session
    // survives, so its generation changes.
    PQreset(m_c);
    if (PQstatus(m_c) != CONNECTION_OK) {
        return failure("reconnecting", nullptr);
    }
    m_lost = false;
    ++m_generation;
    return set_up_session();
}

PgConn::~PgConn() { PQfinish(m_c); }

Status PgConn::failure(const std::string& what, const PGresult* r) const {
    std::string msg = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(m_c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
        msg.pop_back();
    }
    std::string text = "postgresql '" + m_where + "': " + what + ": " + msg;
    // The connection is gone: libpq says so; or the error is libpq's own
    // (no SQLSTATE: "server closed the connection unexpectedly" on a failed
    // send, while libpq may still report the connection as OK); or the
    // server says so (connection exceptions, class 08; shutting down or
    // starting up, 57P01-57P03). It is made again before the next
    // statement outside a transaction (ensure_connected).
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (PQstatus(m_c) != CONNECTION_OK || state == nullptr ||
        (state[0] == '0' && state[1] == '8') ||
        (state[0] == '5' && state[1] == '7' && state[2] == 'P')) {
        m_lost = true;
        return Status::unavailable(std::move(text));
    }
    // Transient: serialization failures and deadlocks (SQLSTATE class 40).
    if (state[0] == '4' && state[1] == '0') {
        return Status::unavailable(std::move(text));
    }
    return Status::io_error(std::move(text));
}

Result<PgResult> PgConn::exec(const std::string& sql, const PgParams& p, const std::string& what) {
    ASSAY_RETURN_IF_ERROR(reconnect_outside_transaction(what));
    std::vector<const char*> values;
    std::vector<int> lengths;
    values.reserve(p.m_values.size());
    lengths.reserve(p.m_values.size());
    for (const auto& v : p.m_values) {
        values.push_back(v ? v->data() : nullptr);
        lengths.push_back(v ? static_cast<int>(v->size()) : 0);
    }
    PGresult* raw = PQexecParams(m_c, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                 values.data(), lengths.data(), p.m_formats.data(), 0);
    return checked(raw, what);
}

Result<PgResult> PgConn::checked(PGresult* raw, const std::string& what) {
    const ExecStatusType st = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        Status e = failure(what, raw);
        PQclear(raw);
        return e;
    }
    return PgResult(raw);
}

Result<PgResult> PgConn::exec(const std::string& sql, const std::string& what) {
    ASSAY_RETURN_IF_ERROR(reconnect_outside_transaction(what));
    return checked(PQexec(m_c, sql.c_str()), what);
}

Status PgConn::reconnect_outside_transaction(const std::string& what) {
    if (PQstatus(m_c) == CONNECTION_OK && !m_lost) {
        return {};
    }
    if (m_in_transaction) {
        // The transaction died with the connection: never run the rest of
        // it on a new one (its first statements would be lost, the rest
        // committed alone). The caller rolls back and starts again.
        return Status::unavailable("postgresql '" + m_where + "': " + what +
                                   ": the connection was lost in a transaction");
    }
    return ensure_connected();
}

Status PgConn::copy_in(const std::string& copy_sql, std::string_view data,
                       const std::string& what) {
    ASSAY_RETURN_IF_ERROR(reconnect_outside_transaction(what));
    PGresult* start = PQexec(m_c, copy_sql.c_str());
    if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) {
        auto r = checked(start, what);
        // A statement that succeeded without entering COPY is a caller bug.
        return r.ok() ? Status::internal(what + ": '" + copy_sql + "' is not a COPY FROM STDIN")
                      : r.status();
    }
    PQclear(start);
    // Chunks well under libpq's int length; each is buffered and flushed by libpq.
    constexpr size_t k_chunk = 1 << 20;
    const char* error = nullptr;
    for (size_t at = 0; at < data.size(); at += k_chunk) {
        const size_t n = std::min(k_chunk, data.size() - at);
        if (PQputCopyData(m_c, data.data() + at, static_cast<int>(n)) != 1) {
            error = "the connection failed while sending the rows";
            break;
        }
    }
    if (PQputCopyEnd(m_c, error) != 1) {
        return failure(what, nullptr);
    }
    // The COPY's own result, then nullptr.
    Status st;
    while (PGresult* r = PQgetResult(m_c)) {
        if (st.ok() && PQresultStatus(r) != PGRES_COMMAND_OK) {
            st = failure(what, r);
        }
        PQclear(r);
    }
    return st;
}

PgTxn::~PgTxn() {
    if (m_open) {
        (void)m_c.exec("ROLLBACK", "rolling back");  // best effort in a destructor
        m_c.m_in_transaction = false;
    }
}

Status PgTxn::begin() {
    auto r = m_c.exec("BEGIN", "beginning a transaction");
    m_open = r.ok();
    m_c.m_in_transaction = m_open;
    return r.ok() ? Status() : r.status();
}

Status PgTxn::commit() {
    m_open = false;
    auto r = m_c.exec("COMMIT", "committing");
    m_c.m_in_transaction = false;
    return r.ok() ? Status() : r.status();
}

}  // namespace assay::pg
