#pragma once
// The gate's golden dataset: one JSON object per line,
//   {"id", "input", "reference"?, "context"?, "metadata"?, "expect"?}
// (README.md, "assay gate"). Loading is all-or-nothing: the gate never goes
// green on a partly read dataset. Plain values; thread-safe to read.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay::gate {

struct GateCase {
    std::string id;
    int64_t line = 0;          // 1-based line in the dataset file
    nlohmann::json input;      // string or message list (trace format)
    nlohmann::json reference;  // string or null
    nlohmann::json context;    // list or null
    nlohmann::json metadata = nlohmann::json::object();
    nlohmann::json expect = nlohmann::json::object();  // validated by CaseChecks::build
};

struct Dataset {
    std::string path;
    std::string
        sha256;  // of its non-blank lines: a baseline report is only reused for the same dataset
    std::vector<GateCase> cases;  // file order
};

// Reads and validates `path`. invalid_argument, naming the line and field,
// for: invalid JSON, a line that is not an object, a missing/empty/non-string
// or duplicate id, wrong types, an unknown key; and for a file with no cases
// ("dataset 'x' has no cases"); limit_exceeded for a line longer than
// max_line_bytes or nested deeper than max_depth (checked before parsing).
// io_error when the file cannot be read.
Result<Dataset> load_dataset(const std::string& path, size_t max_line_bytes, size_t max_depth = 64);

}  // namespace assay::gate
