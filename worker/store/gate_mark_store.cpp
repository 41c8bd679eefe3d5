// What both GateMarkStore backends share: the check of a mark, and the opener
// that picks the backend from the location (like open_store).
#include "store/gate_mark_store.h"

#include "store/store_location.h"

namespace assay {

Status check_gate_mark(const GateMark& m) {
    if (m.mark != "real" && m.mark != "noise") {
        return Status::invalid_argument("mark '" + m.mark + "': expected real or noise");
    }
    if (m.gate_run.empty() || m.case_id.empty()) {
        return Status::invalid_argument("a gate run and a case id are required");
    }
    if (m.reviewer.empty()) {
        return Status::invalid_argument("reviewer: a name is required");
    }
    return {};
}

Result<std::unique_ptr<GateMarkStore>> open_gate_mark_store(const std::string& location) {
    return is_postgres_uri(location) ? open_postgres_gate_mark_store(location)
                                     : open_sqlite_gate_mark_store(location);
}

}  // namespace assay
