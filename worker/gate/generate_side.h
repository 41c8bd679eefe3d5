#pragma once
// Generate mode (`assay gate --prompt FILE`, `--baseline-prompt FILE`):
// renders a prompt template over every dataset case and calls the `subject:`
// model to produce that side's outputs (README "assay gate", Generate mode).
//
// SideGenerator is the seam run_gate() uses; SubjectGenerator is the real
// one. It sends every request through a JudgeClient (judge_client.h: the
// judges' transport, so the same concurrency, rate limits, retries with
// back-off, Retry-After and breaker), with:
//   - a cache: a reply is stored under generation_cache_key() in the --db
//     store's judge_cache (judge "subject:<model>"), so a re-run with the same
//     store makes no request and produces identical outputs;
//   - a daily budget (daily_budget_usd): before anything is sent, today's
//     stored spend of "subject:<model>" plus the estimated cost of the
//     uncached requests must fit, else the side fails (nothing is sent);
//     what was spent is added to judge_spend.
// Fail closed: a template variable a case lacks, an over-budget run, or any
// request that still fails after the client's retries is a non-OK Status
// naming the side, the case and the error (the gate exits 2). Nothing is
// ever generated from a partly rendered prompt.
//
// Each generated trace: trace_id = case id, output = the reply, usage
// (input/output tokens, cost), latency_ms and finish_reason (of the call that
// produced the reply, as the provider spells it; both kept in the cache so a
// cached re-run is identical), metadata model, prompt_file, prompt_sha256;
// then completed from the case like a loaded side (side_outputs.h).
// One generate() at a time per object; the client may be shared.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/trace.h"
#include "core/trace_json.h"
#include "gate/dataset.h"
#include "gate/prompt_template.h"
#include "judge/subject_options.h"
#include "llm/judge_client.h"
#include "store/store.h"

namespace assay::gate {

// What one side's generation did (for the log line; not in the report,
// which stays identical across runs).
struct GenerationStats {
    int64_t requests = 0;    // cases answered by a call
    int64_t cache_hits = 0;  // cases answered from the cache
    int64_t attempts = 0;    // HTTP attempts, retries included
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    double cost_usd = 0.0;
};

struct GeneratedSide {
    std::vector<Trace> traces;  // one per case, dataset order, completed from the case
    std::vector<std::string>
        jsonl;            // the same traces as generated (before completion), one JSON line each
    std::string subject;  // "subject:<model>"
    GenerationStats stats;
};

class SideGenerator {
public:
    virtual ~SideGenerator() = default;
    // `progress(done, total)` after each case (may be empty), on the caller's thread.
    virtual Result<GeneratedSide> generate(const std::string& side, const PromptTemplate& prompt,
                                           const Dataset& dataset,
                                           const std::function<void(size_t, size_t)>& progress) = 0;
};

// The cache key: SHA-256 (hex) over a version tag, the provider, model,
// temperature, max_tokens, response format, system message and prompt.
std::string generation_cache_key(const JudgeOptions& subject, std::string_view system,
                                 std::string_view prompt);

class SubjectGenerator final : public SideGenerator {
public:
    // `client` and `store` must outlive this object; `store` may be null (no
    // cache, and the budget counts this run only). `now_ms` gives the spend
    // day and cache timestamps (default: the system clock).
    SubjectGenerator(SubjectRuntime subject, JudgeClient& client, Store* store,
                     std::function<int64_t()> now_ms = {});

    Result<GeneratedSide> generate(const std::string& side, const PromptTemplate& prompt,
                                   const Dataset& dataset,
                                   const std::function<void(size_t, size_t)>& progress) override;

private:
    SubjectRuntime m_subject;
    JudgeClient& m_client;
    Store* m_store;
    std::function<int64_t()> m_now;
};

// Writes `generated.jsonl` to DIR/<side>.jsonl (usable as --baseline or
// --candidate later). io_error naming the file.
Status save_generated(const std::string& dir, const std::string& side,
                      const GeneratedSide& generated);

}  // namespace assay::gate
