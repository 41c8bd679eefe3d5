#include "store/sqlite/busy_wait.h"

#include <chrono>
#include <cstdint>
#include <thread>

namespace assay::sqlite_detail {

namespace {

constexpr long long k_first_us[] = {50, 100, 200, 500};
constexpr int k_first = 4;
constexpr long long k_then_us = 1000;

long long delay_us(int count) { return count < k_first ? k_first_us[count] : k_then_us; }

int busy_wait(void* arg, int count) {
    const long long timeout_us = static_cast<long long>(reinterpret_cast<intptr_t>(arg)) * 1000;
    const long long slept = busy_wait_slept_us(count);
    if (slept >= timeout_us) {
        return 0;  // give up: SQLITE_BUSY
    }
    const long long d = delay_us(count);
    const long long left = timeout_us - slept;
    std::this_thread::sleep_for(std::chrono::microseconds(d < left ? d : left));
    return 1;
}

}  // namespace

long long busy_wait_slept_us(int count) {
    long long total = 0;
    for (int i = 0; i < count && i < k_first; ++i) {
        total += k_first_us[i];
    }
    if (count > k_first) {
        total += static_cast<long long>(count - k_first) * k_then_us;
    }
    return total;
}

void set_busy_wait(sqlite3* db, int timeout_ms) {
    if (timeout_ms <= 0) {
        sqlite3_busy_handler(db, nullptr, nullptr);  // as busy_timeout(0): fail at once
        return;
    }
    sqlite3_busy_handler(db, busy_wait, reinterpret_cast<void*>(static_cast<intptr_t>(timeout_ms)));
}

}  // namespace assay::sqlite_detail
