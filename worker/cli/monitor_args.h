#pragma once
// Shared flags of the monitoring commands (report, alerts, retention,
// erase): where the store is and what time it is. CLI main thread only.

#include <cstdint>
#include <optional>
#include <string>

namespace assay::cli {

// --db wins, then ASSAY_DB, then store.sqlite / store.postgres of --config,
// then ./assay.db. A postgresql:// URI is returned as is (opening connects).
// Prints the problem (naming the command) and returns nullopt when the
// config is unusable or no store exists there.
std::optional<std::string> resolve_db_path(const std::string& command, const std::string& db,
                                           const std::string& config);

// --now as RFC 3339, or the current time when empty; prints and returns
// nullopt when malformed.
std::optional<int64_t> resolve_now(const std::string& command, const std::string& now);

}  // namespace assay::cli
