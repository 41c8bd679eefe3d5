#include "ingest/zmq_protocol.h"

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace assay {

std::vector<std::string_view> split_payload(std::string_view payload) {
    std::string_view body = trim(payload);
    if (body.empty() || body.front() != '[') {
        return {payload};
    }
    std::vector<std::string_view> out;
    size_t depth = 0;
    bool in_string = false;
    size_t start = 1;
    for (size_t i = 1; i < body.size(); ++i) {
        char c = body[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if (c == ']' || c == '}') {
            if (depth == 0) {
                // The closing bracket of the array: it must end the payload.
                if (c != ']' || !trim(body.substr(i + 1)).empty()) {
                    return {payload};
                }
                std::string_view last = trim(body.substr(start, i - start));
                if (!last.empty()) {
                    out.push_back(last);
                } else if (!out.empty()) {
                    return {payload};  // "[a, ]": not JSON
                }
                return out;
            }
            --depth;
        } else if (c == ',' && depth == 0) {
            std::string_view item = trim(body.substr(start, i - start));
            if (item.empty()) {
                return {payload};
            }
            out.push_back(item);
            start = i + 1;
        }
    }
    return {payload};  // unterminated
}

std::string encode_ack(const Ack& ack) {
    nlohmann::json j{{"id", ack.id}, {"accepted", ack.accepted}, {"rejected", nlohmann::json::array()}};
    for (const auto& r : ack.rejected) {
        j["rejected"].push_back({{"index", r.index}, {"error", r.error}});
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
        if (!r.is_object() || !r.contains("index") || !r["index"].is_number_unsigned()) {
            return Status::invalid_argument("not an ack: bad 'rejected' entry");
        }
        a.rejected.push_back({r["index"].get<uint32_t>(), r.value("error", std::string())});
    }
    return a;
}

}  // namespace assay
