#include "ingest/zmq_protocol.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "core/json_scan.h"
#include "core/text.h"

namespace assay {

std::vector<std::string_view> split_payload(std::string_view payload) {
    return split_payload(payload, std::numeric_limits<size_t>::max() - 1);
}

std::vector<std::string_view> split_payload(std::string_view payload, size_t max_items) {
    std::string_view body = trim(payload);
    if (body.empty() || body.front() != '[') {
        return {payload};
    }
    std::vector<std::string_view> out;
    size_t depth = 0;
    size_t start = 1;
    bool malformed = false;
    JsonScanEnd end = scan_outside_strings(body, 1, [&](size_t i, char c) {
        if (c == '[' || c == '{') {
            ++depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        } else if ((c == ']' || c == '}') || (c == ',' && depth == 0)) {
            // A top-level comma, or the array's closing bracket.
            std::string_view item = trim(body.substr(start, i - start));
            const bool closing = c != ',';
            if (item.empty() && !(closing && out.empty())) {
                malformed = true;  // "[,1]", "[1,]", "[1,,2]"
            } else if (!item.empty()) {
                out.push_back(item);
                if (out.size() > max_items) {
                    return false;  // too many: the caller refuses the whole message
                }
            }
            if (closing) {
                // It must be "]" and end the payload.
                malformed = malformed || c != ']' || !trim(body.substr(i + 1)).empty();
                return false;
            }
            start = i + 1;
        }
        return true;
    });
    if (malformed || !end.stopped) {
        return {payload};  // not a well-formed array (or unterminated): one record
    }
    return out;
}

std::string encode_ack(const Ack& ack) {
    nlohmann::json j{
        {"id", ack.id}, {"accepted", ack.accepted}, {"rejected", nlohmann::json::array()}};
    for (const auto& r : ack.rejected) {
        if (j["rejected"].size() == k_max_listed_rejections) {
            break;
        }
        j["rejected"].push_back({{"index", r.index}, {"error", r.error}});
    }
    const auto total = std::max<size_t>(ack.rejected_total, ack.rejected.size());
    if (total > j["rejected"].size()) {
        j["rejected_total"] = total;
    }
    if (!ack.error.empty()) {
        j["error"] = ack.error;
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Ack> decode_ack(std::string_view text) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string() ||
        !j.contains("accepted") || !j["accepted"].is_number_unsigned() || !j.contains("rejected") ||
        !j["rejected"].is_array()) {
        return Status::invalid_argument("not an ack: " + excerpt(text, 120));
    }
    Ack a;
    a.id = j["id"].get<std::string>();
    a.accepted = j["accepted"].get<uint32_t>();
    for (const auto& r : j["rejected"]) {
        if (!r.is_object() || !r.contains("index") || !r["index"].is_number_unsigned() ||
            (r.contains("error") && !r["error"].is_string())) {
            return Status::invalid_argument("not an ack: bad 'rejected' entry");
        }
        a.rejected.push_back({r["index"].get<uint32_t>(), r.value("error", std::string())});
    }
    if (j.contains("rejected_total")) {
        if (!j["rejected_total"].is_number_unsigned()) {
            return Status::invalid_argument("not an ack: bad 'rejected_total'");
        }
        a.rejected_total = j["rejected_total"].get<uint32_t>();
    }
    if (j.contains("error")) {
        if (!j["error"].is_string()) {
            return Status::invalid_argument("not an ack: bad 'error'");
        }
        a.error = j["error"].get<std::string>();
    }
    return a;
}

}  // namespace assay
