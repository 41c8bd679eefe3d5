#pragma once
// Opening the store for read commands (bottom, trace): --db wins, then
// ASSAY_DB, then store.sqlite from --config, then ./assay.db.

#include <memory>
#include <string>

#include "store/store.h"

namespace assay::cli {

// "assay <command>: no store at '<path>' (...)" on stderr, naming a build of
// it that `assay score` has under way, or private files that a run which did
// not finish left behind, if any.
void report_no_store(const std::string& command, const std::string& path);

// Prints the problem to stderr and returns nullptr on failure.
std::unique_ptr<Store> open_store_for_reading(const std::string& command, const std::string& db,
                                              const std::string& config);

}  // namespace assay::cli
