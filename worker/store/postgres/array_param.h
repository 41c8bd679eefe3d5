#pragma once
// Array parameters: a list of values bound as ONE parameter ("$n::bigint[]",
// "$n::text[]"), so `col = ANY($n)` takes a batch of any length without
// building SQL text from values. Internal to worker/store/postgres. Pure
// functions of their arguments (they append to `p`).

#include <cstdint>
#include <string>
#include <vector>

#include "store/postgres/conn.h"

namespace assay::pg {

// Appends the array literal and returns its cast placeholder ("$n::bigint[]").
std::string integer_array(PgParams& p, const std::vector<int64_t>& values);
// Each element quoted and escaped in the literal; returns "$n::text[]".
std::string text_array(PgParams& p, const std::vector<std::string>& values);

}  // namespace assay::pg
