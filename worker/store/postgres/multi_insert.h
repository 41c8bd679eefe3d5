#pragma once
// multi_insert: one INSERT statement for many rows ("head VALUES (...), (...)
// tail"), cut into chunks that stay under PostgreSQL's 65,535 parameters per
// statement. Internal to worker/store/postgres; runs inside the caller's
// transaction on the caller's connection (one thread at a time).

#include <cstddef>
#include <functional>
#include <string>

#include "core/status.h"
#include "store/postgres/conn.h"

namespace assay::pg {

// Appends row i's parameters to `p` and returns its "(...)" tuple of placeholders.
using RowBinder = std::function<std::string(size_t i, PgParams& p)>;
// Sees each chunk's result (e.g. RETURNING rows).
using ChunkResult = std::function<Status(const PgResult& r)>;

// Inserts rows [0, n) of `columns` parameters each. Stops at the first
// failing chunk and returns its error (the caller's transaction then rolls
// back everything). `what` names the work in errors.
Status multi_insert(PgConn& c, const std::string& head, const std::string& tail, size_t columns,
                    size_t n, const RowBinder& row, const std::string& what,
                    const ChunkResult& on_result = {});

}  // namespace assay::pg
