#pragma once
// Test and measurement support: where the labelled public data lives
// (README "Measured scorer quality": ../shared/data beside the checkout, or
// ASSAY_SHARED_DATA_DIR), and how a measurement says that it is absent.
//
// A measurement whose data file does not exist exits with k_exit_skipped
// after printing shared_data_missing(path); ctest maps that exit code to
// "Skipped" (SKIP_RETURN_CODE). A data file that exists but holds no cases is
// a failure, never a pass and never a skip. Pure functions; thread-safe.

#include <cstdlib>
#include <string>

namespace assay::testing {

// The exit code of a measurement that found no data to measure.
constexpr int k_exit_skipped = 77;

// The environment variable ASSAY_SHARED_DATA_DIR when set and not empty,
// else `configured` (the CMake cache variable of the same name).
inline std::string shared_data_dir(const std::string& configured) {
    const char* env = std::getenv("ASSAY_SHARED_DATA_DIR");
    return env != nullptr && *env != '\0' ? std::string(env) : configured;
}

// The one-line reason printed before exiting with k_exit_skipped.
inline std::string shared_data_missing(const std::string& path) {
    return "SKIPPED: shared data not found at " + path +
           ": set ASSAY_SHARED_DATA_DIR (cmake -DASSAY_SHARED_DATA_DIR=DIR, or the environment "
           "variable) to the folder holding the labelled data (README \"Measured scorer "
           "quality\")";
}

}  // namespace assay::testing
