#pragma once
// ScorerVersionIds: the scorer_versions.id of each (scorer, version) a Store
// object registered (Store::register_scorers), and the batch-index lookup of
// a row's trace id, shared by the SQLite and PostgreSQL backends. A value
// owned by one Store object; no locking (one thread at a time, as the Store).

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

class ScorerVersionIds {
public:
    // Remembers `id` for (scorer, version); a pair already known keeps its id.
    void add(std::string scorer, std::string version, int64_t id) {
        for (const auto& have : m_ids) {
            if (have.scorer == scorer && have.version == version) {
                return;
            }
        }
        m_ids.push_back({std::move(scorer), std::move(version), id});
    }
    // The id, or invalid_argument naming the pair when it was never added.
    Result<int64_t> find(const std::string& scorer, const std::string& version) const {
        for (const auto& v : m_ids) {
            if (v.scorer == scorer && v.version == version) {
                return v.id;
            }
        }
        return Status::invalid_argument("scorer '" + scorer + "' version '" + version +
                                        "' was not registered with this store");
    }

private:
    struct Entry {
        std::string scorer;
        std::string version;
        int64_t id = 0;
    };
    std::vector<Entry> m_ids;
};

// ids[batch_index] (the traces.id of a trace written in this batch), or
// internal when batch_index is outside the batch. batch_index must be >= 0.
inline Result<int64_t> batch_trace_id(int32_t batch_index, const std::vector<int64_t>& ids) {
    if (static_cast<size_t>(batch_index) >= ids.size()) {
        return Status::internal("batch_index " + std::to_string(batch_index) +
                                " is outside the batch");
    }
    return ids[static_cast<size_t>(batch_index)];
}

}  // namespace assay
