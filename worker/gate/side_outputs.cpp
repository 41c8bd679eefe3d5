#include "gate/side_outputs.h"

#include <map>

#include "ingest/jsonl_reader.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

bool absent(const json& j, const char* key) {
    auto it = j.find(key);
    return it == j.end() || it->is_null();
}

}  // namespace

Result<Trace> complete_from_case(const Trace& trace, const GateCase& c) {
    json j = json::parse(trace.raw, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return Status::internal("a parsed trace is not a JSON object");
    }
    bool changed = false;
    if (absent(j, "input")) {
        j["input"] = c.input;
        changed = true;
    }
    if (absent(j, "reference") && c.reference.is_string()) {
        j["reference"] = c.reference;
        changed = true;
    }
    if (absent(j, "context") && c.context.is_array()) {
        j["context"] = c.context;
        changed = true;
    }
    if (!c.metadata.empty()) {
        json& m = j["metadata"];
        if (m.is_null()) {
            m = json::object();
        }
        for (auto it = c.metadata.begin(); it != c.metadata.end(); ++it) {
            if (absent(m, it.key().c_str())) {
                m[it.key()] = it.value();
                changed = true;
            }
        }
    }
    if (!changed) {
        return trace;
    }
    Result<Trace> t = trace_from_json(j, trace.received_ms);
    if (!t.ok()) {
        return Status::invalid_argument(
            "case '" + c.id +
            "': the case's fields do not form a valid trace: " + t.status().message());
    }
    return t;
}

Result<std::vector<Trace>> load_side(const std::string& side, const std::string& path,
                                     const Dataset& dataset, const ParseLimits& limits) {
    const std::string where = side + " '" + path + "'";
    auto reader = JsonlReader::open(path, limits.max_trace_bytes);
    if (!reader.ok()) {
        return Status::io_error(side + ": " + reader.status().message());
    }
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < dataset.cases.size(); ++i) {
        index[dataset.cases[i].id] = i;
    }
    std::vector<std::optional<Trace>> by_case(dataset.cases.size());
    JsonlRecord rec;
    const int64_t received = 0;  // fixed: the gate's results never depend on the clock
    while ((*reader)->next(rec)) {
        const std::string at = where + " line " + std::to_string(rec.line) + ": ";
        if (rec.oversized) {
            return Status::invalid_argument(at + "trace is " + std::to_string(rec.full_bytes) +
                                            " bytes; the limit (ingest.max_trace_bytes) is " +
                                            std::to_string(limits.max_trace_bytes));
        }
        Result<Trace> t = parse_trace(std::move(rec.text), limits, received);
        if (!t.ok()) {
            return Status::invalid_argument(at + t.status().message());
        }
        auto it = index.find(t->trace_id);
        if (it == index.end()) {
            return Status::invalid_argument(at + "trace_id '" + t->trace_id +
                                            "' is not a case id of dataset '" + dataset.path + "'");
        }
        if (by_case[it->second]) {
            return Status::invalid_argument(at + "duplicate output for case '" + t->trace_id + "'");
        }
        Result<Trace> done = complete_from_case(*t, dataset.cases[it->second]);
        if (!done.ok()) {
            return Status::invalid_argument(at + done.status().message());
        }
        by_case[it->second] = std::move(done.value());
    }
    if (!(*reader)->status().ok()) {
        return Status::io_error(side + ": " + (*reader)->status().message());
    }
    std::vector<Trace> out;
    out.reserve(by_case.size());
    std::vector<std::string> missing;
    for (size_t i = 0; i < by_case.size(); ++i) {
        if (!by_case[i]) {
            missing.push_back(dataset.cases[i].id);
        } else {
            out.push_back(std::move(*by_case[i]));
        }
    }
    if (!missing.empty()) {
        std::string list = "'" + missing[0] + "'";
        for (size_t i = 1; i < missing.size() && i < 10; ++i) {
            list += ", '" + missing[i] + "'";
        }
        if (missing.size() > 10) {
            list += " and " + std::to_string(missing.size() - 10) + " more";
        }
        return Status::invalid_argument(where + ": no output for case " + list + " (" +
                                        std::to_string(missing.size()) + " of " +
                                        std::to_string(dataset.cases.size()) + " cases missing)");
    }
    return out;
}

}  // namespace assay::gate
