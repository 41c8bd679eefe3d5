#pragma once
// connect_store: the one way every PostgreSQL store object (PostgresStore and
// the aggregate, alert, maintenance and span stores) gets its connection:
// refuses a URI that carries a password (secrets come from PGPASSWORD or
// ~/.pgpass only), connects and brings the schema up to date (migrate() is
// idempotent and serialised across processes). Internal to worker/store.
//
// invalid_argument for a password in the URI, unavailable when the server
// cannot be reached, io_error otherwise; every message shows the masked URI.
// Safe from any thread (each call makes its own connection).

#include <memory>
#include <string>

#include "core/status.h"
#include "store/postgres/conn.h"

namespace assay::pg {

Result<std::unique_ptr<PgConn>> connect_store(const std::string& uri);

}  // namespace assay::pg
