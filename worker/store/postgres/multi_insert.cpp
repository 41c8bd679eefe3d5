#include "store/postgres/multi_insert.h"

#include <algorithm>

namespace assay::pg {

namespace {

constexpr size_t k_max_params = 65535;

}  // namespace

Status multi_insert(PgConn& c, const std::string& head, const std::string& tail, size_t columns,
                    size_t n, const RowBinder& row, const std::string& what,
                    const ChunkResult& on_result) {
    const size_t per_chunk = std::max<size_t>(1, k_max_params / std::max<size_t>(1, columns));
    for (size_t start = 0; start < n; start += per_chunk) {
        const size_t end = std::min(n, start + per_chunk);
        PgParams p;
        std::string sql = head;
        sql += " VALUES ";
        for (size_t i = start; i < end; ++i) {
            if (i > start) {
                sql += ", ";
            }
            sql += row(i, p);
        }
        sql += ' ';
        sql += tail;
        auto r = c.exec(sql, p, what);
        if (!r.ok()) {
            return r.status();
        }
        if (on_result) {
            ASSAY_RETURN_IF_ERROR(on_result(*r));
        }
    }
    return {};
}

}  // namespace assay::pg
