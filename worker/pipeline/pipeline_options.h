#pragma once
// The Pipeline's own options (the `pipeline:` config block) and what else it
// reads of the loaded configuration. Plain values.

#include <vector>

#include "core/trace_json.h"
#include "pipeline/scorer_set.h"

namespace assay {

struct PipelineOptions {
    int batch_size = 1000;  // pipeline.batch_size: traces per store transaction
    int threads = 0;        // pipeline.threads: scoring threads; 0 = cores - 1 (at least 1)
    // When another connection holds the store's write lock past its busy
    // timeout: false (batch commands) retries a commit 5 times with back-off
    // and then fails; true (the worker) keeps retrying, at most 5 s apart,
    // until the lock is free (store_blocked() meanwhile; nothing of the
    // batch is acknowledged before its commit).
    bool wait_for_store_lock = false;
};

// Everything a Pipeline needs besides its Store. `scorers` must outlive the
// Pipeline.
struct PipelineSetup {
    PipelineOptions options;
    const std::vector<ConfiguredScorer>& scorers;
    ParseLimits limits;  // ingest.max_trace_bytes / ingest.max_depth
};

}  // namespace assay
