#include "store/postgres/open.h"

#include "store/postgres/schema.h"
#include "store/store_location.h"

namespace assay::pg {

Result<std::unique_ptr<PgConn>> connect_store(const std::string& uri) {
    if (mask_store_location(uri) != uri) {
        return Status::invalid_argument(
            "store '" + mask_store_location(uri) +
            "': the URI carries a password; remove it and set PGPASSWORD or use ~/.pgpass "
            "(Assay reads secrets from the environment only)");
    }
    auto conn = PgConn::connect(uri);
    if (!conn.ok()) {
        return conn.status();
    }
    ASSAY_RETURN_IF_ERROR(migrate(**conn));
    return conn;
}

}  // namespace assay::pg
