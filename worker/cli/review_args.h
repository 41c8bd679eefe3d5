#pragma once
// The store for review, calibrate and export: --db wins, then ASSAY_DB,
// then ./assay.db; a SQLite file or a postgresql:// URI (store_location.h).
// Prints the problem (the location masked) to stderr and returns nullptr
// when the file does not exist or the store cannot be opened.

#include <memory>
#include <string>

#include "store/review_store.h"

namespace assay::cli {

std::unique_ptr<ReviewStore> open_review_store(const std::string& command, const std::string& db);

}  // namespace assay::cli
