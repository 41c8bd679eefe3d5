#pragma once
// A test's environment variable (a judge's api_key_env): set for the
// object's lifetime, removed after. Not thread-safe (setenv); one per test.

#include <cstdlib>

namespace assay::testing {

struct ScopedEnv {
    ScopedEnv(const char* name, const char* value) : m_name(name) { ::setenv(name, value, 1); }
    ~ScopedEnv() { ::unsetenv(m_name); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
};

}  // namespace assay::testing
