#pragma once
// `assay review --gate-report R.json [--gate-dataset cases.jsonl]`: the gate
// run the review server's /gate page shows. Reads the JSON report `assay gate
// --json` wrote and, for exporting regressions as cases, its dataset (the
// report's dataset.path, tried as given, then beside the report, unless
// `dataset` names it).

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace assay::cli {

// {"report": the report, "cases": {id: dataset line as `assay gate` reads it}
// or null, "cases_note": why cases is null ("" when not), "run_id": the
// SHA-256 of the report (its keys sorted), the id its marks are stored under}. invalid_argument
// (naming the file and the problem) for a file that is not a gate report of
// the format this build writes, or for a `dataset` that cannot be loaded;
// io_error when the report cannot be read. A dataset found only through the
// report that is missing, unreadable or changed since the run (its sha256
// differs) leaves cases null with the reason in cases_note.
Result<std::shared_ptr<const nlohmann::json>> load_gate_view(const std::string& report_path,
                                                             const std::string& dataset);

}  // namespace assay::cli
