#pragma once
// LoginThrottle: back-off for failed logins, per client address, so that a
// token cannot be guessed by brute force (README "`assay review`", Security).
//   - The first `free_failures` failures from an address cost nothing; each
//     further one locks the address out for first_delay_ms, doubling per
//     further failure up to max_delay_ms. While locked out, every attempt from
//     that address is refused without looking at the token (429 +
//     Retry-After); the lock is not extended by refused attempts.
//   - A success forgets the address; so do forget_after_ms without a failure.
//   - At most max_addresses are remembered: a new address evicts the one whose
//     last failure is oldest, so a flood of addresses cannot grow memory.
// Times are milliseconds of a monotonic clock, passed in (tests control them).
// Thread-safe: every call takes the table's mutex.

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace assay::review {

struct LoginThrottleOptions {
    int64_t free_failures = 5;          // failures before the first lock-out
    int64_t first_delay_ms = 1000;      // the first lock-out
    int64_t max_delay_ms = 300000;      // the cap of the doubling (5 min)
    int64_t forget_after_ms = 3600000;  // an address quiet this long starts afresh (1 h)
    size_t max_addresses = 10000;       // addresses remembered (oldest evicted)
};

class LoginThrottle {
public:
    explicit LoginThrottle(LoginThrottleOptions options = {}) : m_options(options) {}

    // Milliseconds `addr` must still wait before an attempt is looked at; 0
    // when it may try now.
    int64_t wait_ms(const std::string& addr, int64_t now_ms) const;

    struct Failure {
        int64_t failures = 0;  // consecutive failures of this address so far
        int64_t lock_ms = 0;   // the lock-out this failure started (0: none yet)
    };
    // Records a failed attempt of `addr` (one that wait_ms() let through).
    Failure failed(const std::string& addr, int64_t now_ms);
    // A successful login: forgets `addr`.
    void succeeded(const std::string& addr);

    size_t addresses() const;         // remembered now
    uint64_t failures_total() const;  // every failure recorded since start

private:
    struct Entry {
        int64_t failures = 0;
        int64_t last_failure_ms = 0;
        int64_t locked_until_ms = 0;
        std::list<std::string>::iterator order;  // position in m_order
    };
    LoginThrottleOptions m_options;
    mutable std::mutex m_mu;
    std::unordered_map<std::string, Entry> m_entries;
    std::list<std::string> m_order;  // addresses, oldest last failure first
    uint64_t m_failures_total = 0;
};

}  // namespace assay::review
