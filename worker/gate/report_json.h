#pragma once
// The JSON form of a GateReport (`--json F`), and reading one back for
// `--baseline-report`. Output is deterministic: keys sorted, numbers printed
// by nlohmann (shortest round-trip form), sides and cases in dataset order;
// only "generated_at" differs between two runs of the same gate.
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "gate/gate_report.h"

namespace assay::gate {

constexpr int k_report_format = 1;  // "assay_gate_report": bump when the layout changes

nlohmann::json report_to_json(const GateReport& r);

// What --baseline-report reuses from an earlier report: its candidate side
// (the outputs that became the baseline when that change merged), with the
// dataset hash and scorer versions it was scored under.
struct StoredSide {
    std::string dataset_sha256;
    std::vector<ReportScorer> scorers;
    SideResult side;
};

// Reads and parses the report at `path` (`what` names it in messages, e.g.
// "baseline report"). invalid_argument naming the file when it is not JSON,
// nests deeper than 64 levels or is not a gate report of this format;
// io_error when unreadable. Its layout beyond the format number is unchecked.
Result<nlohmann::json> read_report_json(const std::string& path, const std::string& what);

// Reads `path`. invalid_argument naming the file and field when it is not a
// gate report of a supported format; io_error when unreadable.
Result<StoredSide> load_baseline_report(const std::string& path);

}  // namespace assay::gate
