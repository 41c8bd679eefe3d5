#pragma once
// The SQLite schema as an ordered list of migrations. PRAGMA user_version
// holds how many have been applied; opening a store applies the rest, each in
// its own transaction. Never edit a released migration: append a new one.

#include <string_view>
#include <vector>

namespace assay {

const std::vector<std::string_view>& sqlite_migrations();

}  // namespace assay
