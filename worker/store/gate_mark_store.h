#pragma once
// GateMarkStore: reviewers' real/noise marks on the regressed cases of a gate
// run (the `gate_marks` table), so that everyone reviewing the run in `assay
// review` sees the same marks and the export of the real ones reads them.
// One mark per gate run x case: the latest one replaces the earlier.
//
// Every method returns a Status/Result and never throws; io_error carries the
// database's message. Both implementations (SQLite: sqlite/gate_mark_store.cpp,
// PostgreSQL: postgres/gate_mark_store.cpp) hold their own connection and
// serialise calls with a mutex: one object may be shared by the HTTP server's
// threads. On PostgreSQL, several review servers on one database share the
// marks; the latest write of a case wins (one upsert, atomic).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

struct GateMark {
    std::string gate_run;  // the gate run's id (the review server derives it from the report)
    std::string case_id;
    std::string mark;  // real | noise
    std::string note;
    std::string reviewer;
    int64_t at_ms = 0;
};

class GateMarkStore {
public:
    virtual ~GateMarkStore() = default;

    // Stores `m`, replacing the case's earlier mark in that run.
    // invalid_argument for a mark other than real or noise, or an empty
    // gate run, case id or reviewer.
    virtual Status set_gate_mark(const GateMark& m) = 0;
    // The marks of one gate run, by case id.
    virtual Result<std::vector<GateMark>> gate_marks(const std::string& gate_run) = 0;
};

// OK when `m` may be stored; else the invalid_argument set_gate_mark
// returns (both backends call it first).
Status check_gate_mark(const GateMark& m);

// Opens the gate marks of the store at `location`: a postgresql:// URI opens
// the PostgreSQL one (connects, migrates; no password in the URI), anything
// else the SQLite file (which must exist), applying migrations first.
// io_error/unavailable name the (masked) location on failure.
Result<std::unique_ptr<GateMarkStore>> open_gate_mark_store(const std::string& location);
Result<std::unique_ptr<GateMarkStore>> open_sqlite_gate_mark_store(const std::string& path);
Result<std::unique_ptr<GateMarkStore>> open_postgres_gate_mark_store(const std::string& uri);

}  // namespace assay
