#pragma once
// Judge-task claimant ids: who holds a judge_queue claim (store.h,
// claim_judge_tasks). An id is "hostname:pid:nonce"; the random nonce keeps
// two connections of one process (or a reused pid) apart.
//
// Thread safety: every function is safe to call from any thread.

#include <string>

#include "store/store.h"

namespace assay {

// "hostname:pid:nonce" for this process (the nonce is 16 random hex digits,
// fresh on every call). Never fails: an unknown host name becomes "unknown".
std::string make_judge_claimant();

// true when `claimant` names a process of this host (same host name) whose
// pid no longer exists (kill(pid, 0) fails with ESRCH). false for other
// hosts, live or unsignalable (EPERM) pids, and ids that do not parse.
bool judge_claimant_dead_here(const std::string& claimant);

// JudgeWrite::lease_lost of a fenced write_judge_outcome (store.h): why the
// task of `o` is no longer this claimant's. `queued`: the task
// is still in judge_queue, held by `holder` ("" when unclaimed); else it left
// the queue (another worker finished it).
std::string judge_lease_lost(const JudgeOutcome& o, bool queued, const std::string& holder);

}  // namespace assay
