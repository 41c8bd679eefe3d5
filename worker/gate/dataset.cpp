#include "gate/dataset.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/json_scan.h"
#include "core/sha256.h"
#include "ingest/jsonl_reader.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

// Deepest nesting of [ and { outside strings, counting stops past `limit`.
size_t nesting(std::string_view s, size_t limit) {
    size_t depth = 0, deepest = 0;
    scan_outside_strings(s, 0, [&](size_t, char c) {
        if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            return deepest <= limit;
        }
        if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        return true;
    });
    return deepest;
}

Status line_error(const std::string& path, int64_t line, const std::string& problem) {
    return Status::invalid_argument("dataset '" + path + "' line " + std::to_string(line) + ": " +
                                    problem);
}

}  // namespace

Result<Dataset> load_dataset(const std::string& path, size_t max_line_bytes, size_t max_depth) {
    auto reader = JsonlReader::open(path, max_line_bytes);
    if (!reader.ok()) {
        return reader.status();
    }
    Dataset ds;
    ds.path = path;
    std::set<std::string> ids;
    JsonlRecord rec;
    std::string all_bytes;
    while ((*reader)->next(rec)) {
        if (rec.oversized) {
            return line_error(path, rec.line,
                              "line is " + std::to_string(rec.full_bytes) +
                                  " bytes; the limit (ingest.max_trace_bytes) is " +
                                  std::to_string(max_line_bytes));
        }
        all_bytes += rec.text;
        all_bytes += '\n';
        if (nesting(rec.text, max_depth) > max_depth) {
            return Status::limit_exceeded("dataset '" + path + "' line " +
                                          std::to_string(rec.line) + ": JSON nests deeper than " +
                                          std::to_string(max_depth) + " (ingest.max_depth)");
        }
        json j = json::parse(rec.text, nullptr, false);
        if (j.is_discarded()) {
            return line_error(path, rec.line, "invalid JSON");
        }
        if (!j.is_object()) {
            return line_error(path, rec.line, "expected a JSON object");
        }
        GateCase c;
        c.line = rec.line;
        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string& k = it.key();
            const json& v = it.value();
            if (k == "id") {
                if (!v.is_string() || v.get<std::string>().empty() ||
                    v.get<std::string>().size() > 256) {
                    return line_error(path, rec.line,
                                      "field 'id': expected a string of 1-256 bytes");
                }
                c.id = v.get<std::string>();
            } else if (k == "input") {
                if (!v.is_string() && !v.is_array()) {
                    return line_error(path, rec.line,
                                      "field 'input': expected a string or a message list");
                }
                c.input = v;
            } else if (k == "reference") {
                if (!v.is_string() && !v.is_null()) {
                    return line_error(path, rec.line, "field 'reference': expected a string");
                }
                c.reference = v;
            } else if (k == "context") {
                if (!v.is_array() && !v.is_null()) {
                    return line_error(path, rec.line, "field 'context': expected a list");
                }
                c.context = v;
            } else if (k == "metadata") {
                if (!v.is_object()) {
                    return line_error(path, rec.line, "field 'metadata': expected an object");
                }
                c.metadata = v;
            } else if (k == "expect") {
                if (!v.is_object()) {
                    return line_error(path, rec.line, "field 'expect': expected an object");
                }
                c.expect = v;
            } else {
                return line_error(
                    path, rec.line,
                    "unknown key '" + k +
                        "' (expected id, input, reference, context, metadata, expect)");
            }
        }
        if (c.id.empty()) {
            return line_error(path, rec.line, "field 'id' is missing");
        }
        if (c.input.is_null()) {
            return line_error(path, rec.line, "case '" + c.id + "': field 'input' is missing");
        }
        if (!ids.insert(c.id).second) {
            return line_error(path, rec.line, "duplicate case id '" + c.id + "'");
        }
        ds.cases.push_back(std::move(c));
    }
    if (!(*reader)->status().ok()) {
        return (*reader)->status();
    }
    if (ds.cases.empty()) {
        return Status::invalid_argument("dataset '" + path +
                                        "' has no cases: the gate never passes on nothing");
    }
    ds.sha256 = sha256_hex(all_bytes);
    return ds;
}

}  // namespace assay::gate
