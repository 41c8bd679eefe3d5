#pragma once
// ClaimLease: the judge stage's own view of the lease on its claims of one
// scorer version's tasks (Store::claim_judge_tasks renews every claim of the
// stage on that version on each successful call). Used to send nothing for a
// claim that may have passed to another worker: after a stall (SIGSTOP, a
// long pause, a store outage) longer than the lease, the tasks claimed before
// the stall may belong to another worker even when the next call renews
// "this stage's" claims, so their requests still waiting in the judge client
// are withdrawn (JudgeRequest::still_wanted), never sent twice.
//
// Times are steady-clock milliseconds (a stall does not stop that clock).
// renewed() and still_held() are for one thread (the stage thread); the
// predicate still_held() returns may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace assay {

class ClaimLease {
public:
    explicit ClaimLease(int64_t lease_ms);

    // A claim call that started at `started` returned successfully at
    // `ended`. When it ended before the current lease ran out, the renewal
    // reached the store in time: every claim of the current generation now
    // holds until started + lease_ms. Otherwise the earlier claims may have
    // been taken over: they keep their old (passed) end, and a new
    // generation starts for the tasks claimed from now on.
    void renewed(int64_t started, int64_t ended);

    // For JudgeRequest::still_wanted of a task claimed now: true while the
    // current generation's lease holds (by the steady clock).
    std::function<bool()> still_held() const;

    // Milliseconds of std::chrono::steady_clock.
    static int64_t steady_ms();

private:
    int64_t m_lease_ms;
    std::shared_ptr<std::atomic<int64_t>> m_until;  // this generation's end (0: none yet)
};

}  // namespace assay
