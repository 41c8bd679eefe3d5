#pragma once
// CommittedTraces: traces the worker's pipeline has just committed with
// judge tasks, handed to the judge stage in the same process so that it
// need not parse their stored text again (a trace is parsed once on its way
// in). Bounded: past `capacity` traces the oldest are dropped, and the judge
// stage then parses the stored text as it does for another worker's task.
// A trace is used only when its raw text is the stored task's (a later
// upsert of the same trace id is not confused with it).
//
// Thread-safe: add() from the pipeline's writer thread, take() from the
// judge stage's thread.

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/trace.h"

namespace assay {

class CommittedTraces {
public:
    explicit CommittedTraces(size_t capacity = 4096) : m_capacity(capacity) {}

    void add(std::vector<std::shared_ptr<const Trace>> traces);
    // The trace committed as `raw` under `trace_id`, or null; a found
    // trace is removed (each is judged from here once).
    std::shared_ptr<const Trace> take(const std::string& trace_id, const std::string& raw);

    size_t size() const;

private:
    size_t m_capacity;
    mutable std::mutex m_mu;
    std::unordered_map<std::string, std::shared_ptr<const Trace>> m_by_id;
    std::deque<std::string> m_order;  // ids in arrival order (may hold removed ids)
};

}  // namespace assay
