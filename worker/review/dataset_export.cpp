#include "review/dataset_export.h"

namespace assay::review {

using json = nlohmann::ordered_json;

Result<json> build_case(const TraceDetail& d, const std::string& scorer,
                        const std::string& scorer_version) {
    auto raw = json::parse(d.raw, nullptr, false);
    if (raw.is_discarded() || !raw.is_object() || !raw.contains("input")) {
        return Status::invalid_argument("trace '" + d.trace_id + "': stored JSON has no input");
    }
    json c = {{"id", d.trace_id}, {"input", raw["input"]}};
    if (raw.contains("reference") && !raw["reference"].is_null()) {
        c["reference"] = raw["reference"];
    }
    if (raw.contains("context") && !raw["context"].is_null()) {
        c["context"] = raw["context"];
    }
    json metadata =
        raw.contains("metadata") && raw["metadata"].is_object() ? raw["metadata"] : json::object();

    const DecisionRecord* dec = nullptr;
    for (const auto& r : d.decisions) {
        if (r.scorer == scorer && r.scorer_version == scorer_version) {
            dec = &r;
        }
    }
    const LabelRecord* label = nullptr;  // d.labels is newest first
    for (const auto& l : d.labels) {
        if (l.scorer == scorer && l.scorer_version == scorer_version) {
            label = &l;
            break;
        }
    }
    json review = {{"scorer", scorer}, {"scorer_version", scorer_version}};
    if (dec) {
        review["decision"] = dec->decision;
        review["value"] = dec->value ? json(*dec->value) : json(nullptr);
        review["passed"] = dec->passed ? json(*dec->passed) : json(nullptr);
        review["label"] = dec->label;
    }
    json expect = json::object();
    if (label) {
        review["verdict"] = label->verdict;
        review["reviewer"] = label->reviewer;
        review["note"] = label->note;
        if (label->score) {
            review["score"] = *label->score;
        }
        if (label->verdict == "score" && label->score) {
            expect["min_score"] = {{scorer, *label->score}};
        } else if (dec && dec->passed) {
            const std::string& type = dec->scorer_type;
            if (type == "refusal") {
                bool expected_refusal = false;
                if (metadata.contains("expected_refusal")) {
                    const auto& v = metadata["expected_refusal"];
                    expected_refusal = (v.is_boolean() && v.get<bool>()) ||
                                       (v.is_string() && v.get<std::string>() == "true");
                }
                expect["refusal"] = expected_refusal;
            } else if (type == "format" && metadata.contains("expected_format") &&
                       metadata["expected_format"].is_string() &&
                       !metadata["expected_format"].get<std::string>().empty()) {
                expect["format"] = metadata["expected_format"];
            }
        }
    }
    metadata["review"] = review;
    c["metadata"] = metadata;
    if (!expect.empty()) {
        c["expect"] = expect;
    }
    return c;
}

}  // namespace assay::review

namespace assay::review {

Result<std::vector<nlohmann::ordered_json>> export_cases(
    ReviewStore& store, const ReviewFilter& filter, int64_t limit,
    const std::vector<std::string>& trace_ids) {
    // Resolves the version (and checks the scorer) even for explicit ids.
    auto list = store.list(filter, ReviewSort::bottom, 0, trace_ids.empty() ? limit : 0);
    if (!list.ok()) {
        return list.status();
    }
    std::vector<std::string> ids = trace_ids;
    if (ids.empty()) {
        for (const auto& r : list->rows) {
            ids.push_back(r.trace_id);
        }
    }
    std::vector<nlohmann::ordered_json> out;
    for (const auto& id : ids) {
        auto d = store.trace(id);
        if (!d.ok()) {
            return d.status();
        }
        auto c = build_case(*d, filter.scorer, list->scorer_version);
        if (!c.ok()) {
            return c.status();
        }
        out.push_back(std::move(*c));
    }
    return out;
}

}  // namespace assay::review
