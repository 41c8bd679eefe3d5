#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/parallel_parts.h"

using namespace assay;

TEST_CASE("run_in_parts: every index exactly once, whatever the range and the parts") {
    for (size_t n : {0, 1, 5, 63, 64, 65, 1000}) {
        for (size_t min_per_part : {0, 1, 32}) {
            for (size_t threads : {1, 2, 4}) {
                CAPTURE(n);
                CAPTURE(min_per_part);
                CAPTURE(threads);
                std::vector<std::atomic<int>> calls(n);
                run_in_parts(n, min_per_part, threads, [&](size_t i) { calls[i].fetch_add(1); });
                size_t once = 0;
                for (auto& c : calls) {
                    once += c.load() == 1 ? 1 : 0;
                }
                CHECK(once == n);
            }
        }
    }
}

TEST_CASE("run_in_parts: a large range runs on several threads, a small one on the caller") {
    auto threads_used = [](size_t n, size_t min_per_part, size_t max_threads) {
        std::mutex mu;
        std::set<std::thread::id> ids;
        run_in_parts(n, min_per_part, max_threads, [&](size_t) {
            std::lock_guard<std::mutex> lock(mu);
            ids.insert(std::this_thread::get_id());
        });
        return ids;
    };
    CHECK(threads_used(1000, 32, 2).size() == 2);
    CHECK(threads_used(1000, 32, 4).size() == 4);
    const auto small = threads_used(63, 32, 4);  // fewer than 2 x 32: no thread started
    REQUIRE(small.size() == 1);
    CHECK(*small.begin() == std::this_thread::get_id());
}

TEST_CASE("run_in_parts: an exception in any part is rethrown after every part has ended") {
    std::atomic<size_t> done{0};
    CHECK_THROWS_WITH_AS(run_in_parts(1000, 10, 4,
                                      [&](size_t i) {
                                          if (i == 900) {
                                              throw std::runtime_error("item 900");
                                          }
                                          done.fetch_add(1);
                                      }),
                         "item 900", std::runtime_error);
    // The other parts ran to their end; the failing part stopped at 900.
    CHECK(done.load() >= 750);
    CHECK(done.load() < 1000);
}
