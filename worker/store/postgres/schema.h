#pragma once
// The PostgreSQL schema as an ordered list of migrations, and applying them.
// The table schema_version holds one row per applied migration (version,
// applied_ms); opening a store applies the missing ones in order. Never edit
// a released migration: append a new one to postgres_migrations().

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace assay::pg {

class PgConn;

const std::vector<std::string_view>& postgres_migrations();

// Brings the database to the newest schema in one transaction, serialised
// across processes by an advisory lock (several workers may start at once).
// io_error naming both versions when the database is newer than this binary
// knows; the database is left untouched then and on any other failure.
Status migrate(PgConn& c);

// The highest applied version (0 for an empty database).
Result<int> schema_version(PgConn& c);

}  // namespace assay::pg
