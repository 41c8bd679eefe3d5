#pragma once
// The OTLP JSON fixtures of tests/data/otlp/, read whole (for the OTLP tests).

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace assay::testing {

// The bytes of tests/data/otlp/<name>; fails the test when it is missing or empty.
inline std::string otlp_sample(const std::string& name) {
    std::ifstream in(std::string(ASSAY_SOURCE_DIR) + "/tests/data/otlp/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    REQUIRE_MESSAGE(!ss.str().empty(), name);
    return ss.str();
}

}  // namespace assay::testing
