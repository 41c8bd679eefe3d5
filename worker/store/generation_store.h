#pragma once
// GenerationStore: what `assay gate --prompt` (generate mode) keeps in the
// --db store so a re-run is identical and free, and the subject's daily
// budget holds across runs. It reuses the judges' tables: replies in
// judge_cache (keyed by the request hash, judge = "subject:<model>") and
// spend in judge_spend (subject name x UTC day), so `assay judges status`
// shows the subject's spend too.
// Errors: io_error with SQLite's message. One thread at a time per object.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace assay {

class GenerationStore {
public:
    virtual ~GenerationStore() = default;
    // The cached reply for `request_hash`, or nullopt.
    virtual Result<std::optional<JudgeCacheEntry>> cached(const std::string& request_hash) = 0;
    // What `name` has spent on UTC `day` (zeros when nothing).
    virtual Result<JudgeSpend> spent(const std::string& name, const std::string& day) = 0;
    // In one transaction: inserts `cache` entries (an existing hash is kept)
    // and adds `spend` to the (name, day) rows. On failure nothing is stored.
    virtual Status record(const std::vector<JudgeCacheEntry>& cache, const std::vector<JudgeSpend>& spend) = 0;
};

// Opens (creating and migrating as needed) the SQLite store at `sqlite_path`.
Result<std::unique_ptr<GenerationStore>> open_generation_store(const std::string& sqlite_path);

}  // namespace assay
