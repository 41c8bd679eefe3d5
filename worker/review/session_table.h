#pragma once
// SessionTable: the review server's login sessions, kept server-side.
//   - A session lasts ttl_ms from its login (absolute expiry: activity does
//     not extend it), then the cookie is worth nothing: pages redirect to the
//     login form, the API answers 401.
//   - At most max_sessions exist: a login past it first drops the expired
//     sessions, then the oldest one.
//   - end() (logout) removes a session at once.
// Session ids are 32 random bytes as hex (random_token()). Times are
// milliseconds of a monotonic clock, passed in (tests control them).
// Thread-safe: every call takes the table's mutex.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"

namespace assay::review {

struct SessionOptions {
    int64_t ttl_ms = 12 * 3600 * 1000;  // --session-ttl (12 h)
    size_t max_sessions = 1000;         // sessions kept at once (oldest dropped)
};

class SessionTable {
public:
    explicit SessionTable(SessionOptions options = {}) : m_options(options) {}

    // A new session id; internal error when no random bytes are available.
    Result<std::string> create(int64_t now_ms);
    // Is `sid` a session that has not expired? An expired one is removed.
    bool valid(const std::string& sid, int64_t now_ms);
    // Ends `sid`; false when there was no such session.
    bool end(const std::string& sid);
    size_t size() const;

private:
    SessionOptions m_options;
    mutable std::mutex m_mu;
    std::unordered_map<std::string, int64_t> m_expiry_ms;  // id -> expiry
};

}  // namespace assay::review
