#pragma once
// run_in_parts: calls f(i) for every i in [0, n), the range cut into
// contiguous parts run at once on up to `max_threads` threads (the calling
// thread runs the first part). A range of fewer than 2 * min_per_part items
// runs on the calling thread alone: a thread costs tens of microseconds.
//
// f must be safe to call concurrently for different i (each call touching
// only its own item). Returns once every call has returned. An exception from
// any call is rethrown here (the first one, after every part has ended).
// Borrows f for the duration of the call.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace assay {

template <typename F>
void run_in_parts(size_t n, size_t min_per_part, size_t max_threads, F&& f) {
    const size_t by_size = min_per_part == 0 ? n : n / min_per_part;
    const size_t parts = std::max<size_t>(1, std::min(max_threads, by_size));
    if (parts <= 1) {
        for (size_t i = 0; i < n; ++i) {
            f(i);
        }
        return;
    }
    std::vector<std::exception_ptr> errors(parts);
    auto run = [&](size_t part) {
        const size_t begin = n * part / parts;
        const size_t end = n * (part + 1) / parts;
        try {
            for (size_t i = begin; i < end; ++i) {
                f(i);
            }
        } catch (...) {
            errors[part] = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(parts - 1);
    for (size_t part = 1; part < parts; ++part) {
        threads.emplace_back(run, part);
    }
    run(0);
    for (std::thread& t : threads) {
        t.join();
    }
    for (const std::exception_ptr& e : errors) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

}  // namespace assay
