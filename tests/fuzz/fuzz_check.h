#pragma once
// FUZZ_CHECK(cond, what): the invariant check of the fuzz targets (tests/fuzz):
// when `cond` is false it prints `what` (a std::string or C string) with the
// file and line, then aborts, which libFuzzer reports as a crash and keeps the
// input as an artefact. Header-only.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace assay::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* cond,
                              const std::string& what) {
    std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %s\n", file, line, cond, what.c_str());
    std::abort();
}

}  // namespace assay::fuzz

#define FUZZ_CHECK(cond, what)                                    \
    do {                                                          \
        if (!(cond)) {                                            \
            ::assay::fuzz::fail(__FILE__, __LINE__, #cond, what); \
        }                                                         \
    } while (false)
