#pragma once
// Judge-task claimant ids: who holds a judge_queue claim (store.h,
// claim_judge_tasks). An id is "hostname:pid:nonce"; the random nonce keeps
// two connections of one process (or a reused pid) apart.
//
// Thread safety: both functions are safe to call from any thread.

#include <string>

namespace assay {

// "hostname:pid:nonce" for this process (the nonce is 16 random hex digits,
// fresh on every call). Never fails: an unknown host name becomes "unknown".
std::string make_judge_claimant();

// true when `claimant` names a process of this host (same host name) whose
// pid no longer exists (kill(pid, 0) fails with ESRCH). false for other
// hosts, live or unsignalable (EPERM) pids, and ids that do not parse.
bool judge_claimant_dead_here(const std::string& claimant);

}  // namespace assay
