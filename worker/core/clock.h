#pragma once
// The wall clock, in Unix epoch milliseconds. Thread-safe.

#include <cstdint>

namespace assay {

// Milliseconds since the Unix epoch, now.
int64_t now_ms();

}  // namespace assay
