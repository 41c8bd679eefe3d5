// Fuzz target: the ZeroMQ payload splitter and the ack codec
// (ingest/zmq_protocol.h). Invariants on every input:
//   1. split_payload returns views inside the payload, in order, without
//      overlap; either the payload whole, or trimmed non-empty items of a
//      payload that starts with '[' and ends with ']'.
//   2. A payload nlohmann parses as an array of N values splits into exactly
//      N items, each parsing to that value.
//   3. split_payload(p, k) is split_payload(p) when it returns at most k
//      items, and else its first k + 1 items (or p is malformed further on).
//   4. decode_ack never throws; an ack it accepts encodes and decodes to a
//      fixpoint.
// README "Fuzzing and sanitizers".

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.h"
#include "fuzz_check.h"
#include "ingest/zmq_protocol.h"

namespace {

using json = nlohmann::json;

bool same_views(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
                size_t n) {
    if (a.size() < n || b.size() < n) {
        return false;
    }
    for (size_t i = 0; i < n; ++i) {
        if (a[i].data() != b[i].data() || a[i].size() != b[i].size()) {
            return false;
        }
    }
    return true;
}

void check_split(std::string_view payload) {
    const auto items = assay::split_payload(payload);
    const bool whole =
        items.size() == 1 && items[0].data() == payload.data() && items[0].size() == payload.size();
    const char* end = payload.data() + payload.size();
    const char* prev_end = payload.data();
    for (auto item : items) {
        FUZZ_CHECK(item.data() >= prev_end && item.data() + item.size() <= end,
                   "an item outside the payload or overlapping the previous one");
        prev_end = item.data() + item.size();
        if (!whole) {
            FUZZ_CHECK(!item.empty() && assay::trim(item) == item, "an empty or untrimmed item");
        }
    }
    if (!whole) {
        const auto body = assay::trim(payload);
        FUZZ_CHECK(body.front() == '[' && body.back() == ']', "split a payload that is no array");
    }

    const json value = json::parse(payload, nullptr, false);
    // (nlohmann skips a UTF-8 byte order mark and stops at a NUL byte, the
    // splitter does not: such a payload is one record, which the trace parser
    // rejects whole.)
    if (!value.is_discarded() && value.is_array() && payload.substr(0, 3) != "\xEF\xBB\xBF" &&
        payload.find('\0') == std::string_view::npos) {
        FUZZ_CHECK(items.size() == value.size(), "an array of " + std::to_string(value.size()) +
                                                     " values split into " +
                                                     std::to_string(items.size()));
        for (size_t i = 0; i < items.size(); ++i) {
            FUZZ_CHECK(json::parse(items[i], nullptr, false) == value[i],
                       "item " + std::to_string(i) +
                           " is not the array's value: " + std::string(items[i]));
        }
    }

    for (size_t k : {size_t{0}, size_t{1}, size_t{2}, size_t{7}}) {
        const auto limited = assay::split_payload(payload, k);
        if (limited.size() <= k) {
            FUZZ_CHECK(limited.size() == items.size() && same_views(limited, items, items.size()),
                       "split_payload(p, " + std::to_string(k) + ") differs from split_payload(p)");
        } else {
            // It stopped early: the rest may still make the payload malformed.
            FUZZ_CHECK(limited.size() == k + 1 && (whole || same_views(limited, items, k + 1)),
                       "split_payload(p, " + std::to_string(k) + ") gave " +
                           std::to_string(limited.size()) + " items");
        }
    }
}

void check_ack(std::string_view text) {
    const auto ack = assay::decode_ack(text);
    if (!ack.ok()) {
        return;
    }
    const std::string encoded = assay::encode_ack(*ack);
    const auto again = assay::decode_ack(encoded);
    FUZZ_CHECK(again.ok(), "encode_ack's text does not decode: " + encoded);
    FUZZ_CHECK(assay::encode_ack(*again) == encoded, "the ack codec is not a fixpoint: " + encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view payload(reinterpret_cast<const char*>(data), size);
    check_split(payload);
    check_ack(payload);
    return 0;
}
