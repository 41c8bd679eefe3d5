#pragma once
// Where a store lives: StoreOptions::sqlite_path holds either a SQLite file
// path or a libpq connection URI (postgresql://user@host:port/db?...), and
// open_store picks the backend from it. A URI may carry a password (libpq
// accepts one); it is never shown: every message that names a store location
// passes it through mask_store_location first.
//
// Pure functions of their arguments: safe from any thread.

#include <string>
#include <string_view>

#include "core/status.h"

namespace assay {

// true when `location` starts with "postgresql://" or "postgres://" (the two
// URI schemes libpq accepts).
bool is_postgres_uri(std::string_view location);

// `location` fit to print: a SQLite path unchanged; for a PostgreSQL URI the
// password of the user-info part ("user:secret@" -> "user:***@") and the
// value of any password= query parameter replaced by "***". The rest (user,
// host, port, database, options) is kept, so the message still says where.
std::string mask_store_location(std::string_view location);

// OK for a SQLite path; for a PostgreSQL URI invalid_argument "store
// '<masked>': <what> is not yet implemented on PostgreSQL; ..." . Called by
// the SQLite-only openers, so a PostgreSQL URI never becomes a file name.
Status sqlite_only(const std::string& location, const std::string& what);

}  // namespace assay
