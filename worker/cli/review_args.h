#pragma once
// The store path for review, calibrate and export: --db wins, then ASSAY_DB,
// then ./assay.db. Prints the problem to stderr and returns nullptr when the
// file does not exist or cannot be opened.

#include <memory>
#include <string>

#include "store/review_store.h"

namespace assay::cli {

std::unique_ptr<ReviewStore> open_review_store(const std::string& command, const std::string& db);

}  // namespace assay::cli
