#include "cli/review_gate.h"

#include <filesystem>

#include "core/sha256.h"
#include "core/trace_json.h"
#include "gate/dataset.h"
#include "gate/report_json.h"

namespace assay::cli {

namespace {

using nlohmann::json;

// The members the page reads, with their JSON types.
Status check_shape(const json& r, const std::string& at) {
    const std::pair<const char*, json::value_t> need[] = {
        {"verdict", json::value_t::object},    {"summary", json::value_t::array},
        {"regressions", json::value_t::array}, {"sides", json::value_t::object},
        {"dataset", json::value_t::object},    {"scorers", json::value_t::array}};
    for (const auto& [key, type] : need) {
        if (!r.contains(key) || r[key].type() != type) {
            return Status::invalid_argument(
                at + "'" + key + "' is missing or not " +
                (type == json::value_t::array ? "an array" : "an object"));
        }
    }
    for (const char* side : {"baseline", "candidate"}) {
        if (!r["sides"].contains(side) || !r["sides"][side].is_object() ||
            !r["sides"][side].contains("cases") || !r["sides"][side]["cases"].is_array()) {
            return Status::invalid_argument(at + "sides." + side + ".cases is missing");
        }
    }
    return Status();
}

std::string string_at(const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

json case_json(const gate::GateCase& c) {
    json j = {{"id", c.id}, {"input", c.input}};
    if (!c.reference.is_null()) {
        j["reference"] = c.reference;
    }
    if (!c.context.is_null()) {
        j["context"] = c.context;
    }
    if (!c.metadata.empty()) {
        j["metadata"] = c.metadata;
    }
    if (!c.expect.empty()) {
        j["expect"] = c.expect;
    }
    return j;
}

}  // namespace

Result<std::shared_ptr<const json>> load_gate_view(const std::string& report_path,
                                                   const std::string& dataset) {
    auto read = gate::read_report_json(report_path, "gate report");
    if (!read.ok()) {
        return read.status();
    }
    const json& report = *read;
    ASSAY_RETURN_IF_ERROR(check_shape(report, "gate report '" + report_path + "': "));
    ParseLimits limits;

    // The run's id, under which the reviewers' marks are stored: the report's hash.
    json out = {{"report", report},
                {"cases", nullptr},
                {"cases_note", ""},
                {"run_id", sha256_hex(report.dump())}};
    std::string path = dataset;
    if (path.empty()) {
        const std::string named = string_at(report["dataset"], "path");
        std::filesystem::path beside =
            std::filesystem::path(report_path).parent_path() / std::filesystem::path(named);
        if (!named.empty() && std::filesystem::exists(named)) {
            path = named;
        } else if (!named.empty() && std::filesystem::exists(beside)) {
            path = beside.string();
        } else {
            out["cases_note"] = "the dataset '" + named +
                                "' of the report was not found (here or beside the report); give "
                                "it with --gate-dataset";
            return std::make_shared<const json>(std::move(out));
        }
    }
    auto ds = gate::load_dataset(path, limits.max_trace_bytes, limits.max_depth);
    if (!ds.ok()) {
        if (!dataset.empty()) {
            return ds.status();
        }
        out["cases_note"] = ds.status().message();
        return std::make_shared<const json>(std::move(out));
    }
    if (string_at(report["dataset"], "sha256") != ds->sha256) {
        const std::string note = "the dataset '" + path +
                                 "' changed since the gate run (its sha256 differs from the "
                                 "report's)";
        if (!dataset.empty()) {
            return Status::invalid_argument(note);
        }
        out["cases_note"] = note;
        return std::make_shared<const json>(std::move(out));
    }
    json cases = json::object();
    for (const auto& c : ds->cases) {
        cases[c.id] = case_json(c);
    }
    out["cases"] = std::move(cases);
    return std::make_shared<const json>(std::move(out));
}

}  // namespace assay::cli
