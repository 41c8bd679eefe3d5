#pragma once
// The ZeroMQ wire protocol (README "Sending traces over ZeroMQ").
//
// Acknowledged (producer DEALER -> worker ROUTER):
//   request  frames: [msg_id, payload_1, ..., payload_n]
//   reply    frames: [msg_id, ack]   sent only after every trace of the
//                    message is durably committed (or dead-lettered)
//   msg_id:  1-128 bytes chosen by the producer, echoed back verbatim
//   payload: one trace JSON object, or a JSON array of trace objects
//   ack:     {"id": "<msg_id>", "accepted": N,
//             "rejected": [{"index": I, "error": "..."}]}
//            where I counts traces across the message's payloads, from 0.
//            At most k_max_listed_rejections are listed; beyond that
//            "rejected_total": R (all R are dead-lettered). A message refused
//            whole (more traces than worker.zmq_max_traces_per_message) is
//            {"id", "accepted": 0, "rejected": [], "error": "..."}: one dead
//            letter holds the whole message.
// Fire-and-forget (producer PUSH -> worker PULL): frames [payload_1, ...].
//
// Pure functions; thread-safe.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace assay {

constexpr size_t k_max_msg_id_bytes = 128;

// Splits a payload into trace texts without re-serialising them: a JSON
// array is cut at its top-level commas (string- and bracket-aware); anything
// else is returned whole (and fails parsing later with a precise message if
// it is not a trace). Views point into `payload`.
std::vector<std::string_view> split_payload(std::string_view payload);
// The same, stopping after max_items + 1 items (so that a payload of a
// million items costs no more than the limit to find out it is too many).
std::vector<std::string_view> split_payload(std::string_view payload, size_t max_items);

constexpr size_t k_max_listed_rejections = 100;

struct Ack {
    struct Rejection {
        uint32_t index = 0;
        std::string error;
    };
    std::string id;
    uint32_t accepted = 0;
    std::vector<Rejection> rejected;  // the first k_max_listed_rejections
    uint32_t rejected_total = 0;      // all rejections (encode: when more than listed)
    std::string error;                // the message was refused whole
    // Traces of the message rejected: every one when `error` is set.
    uint32_t rejected_count(uint32_t message_traces) const {
        if (!error.empty()) {
            return message_traces;
        }
        return std::max<uint32_t>(rejected_total, static_cast<uint32_t>(rejected.size()));
    }
};

std::string encode_ack(const Ack& ack);
// invalid_argument when `text` is not an ack.
Result<Ack> decode_ack(std::string_view text);

}  // namespace assay
