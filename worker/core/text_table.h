#pragma once
// Aligned plain-text tables for terminal output (the CLI's listings, the gate
// and monitor reports). Pure function, thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace assay {

// One line per row, each starting with `indent`: cells left-aligned in
// columns two spaces apart, each column as wide as its widest cell (counted
// in code points, so UTF-8 content lines up); the last cell of a row is not
// padded. Rows may have different lengths. Empty `rows` give "".
std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         std::string_view indent = "");

}  // namespace assay
