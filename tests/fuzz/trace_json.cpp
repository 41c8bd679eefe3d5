// Fuzz target: the trace parser (core/trace_json.h, core/trace_sax.h,
// core/fast_json_sax.h). Invariants checked on every input:
//   1. parse_trace never throws or crashes; a failure has a message; it never
//      accepts a NUL byte (nlohmann's parser stops at one).
//   2. The fast reader (fast_json_sax) sends exactly the SAX events of
//      nlohmann's parser on every text it accepts, and accepts nothing
//      nlohmann rejects.
//   3. Text path = DOM path: a text nlohmann parses gives the same trace (or
//      a failure in both) through parse_trace and through trace_from_json,
//      when it has no duplicate keys (the DOM keeps only the last one).
//   4. Round trip: trace_from_json's compact text (encode) parses back to the
//      same trace.
// README "Fuzzing and sanitizers".

#include "core/trace_json.h"

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/fast_json_sax.h"
#include "fuzz_check.h"

namespace {

using json = nlohmann::json;
using assay::Trace;

constexpr int64_t k_received_ms = 1700000000000;

std::string hex_double(double d) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", d);
    return buf;
}

// Every event as one line; notes a key seen twice in one object.
struct Recorder {
    std::string log;
    std::vector<std::set<std::string>> keys;  // per open container (arrays: unused)
    bool duplicate_key = false;

    bool null() { return add("null"); }
    bool boolean(bool v) { return add(v ? "true" : "false"); }
    bool number_integer(json::number_integer_t v) { return add("i" + std::to_string(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return add("u" + std::to_string(v)); }
    bool number_float(json::number_float_t v, const std::string& token) {
        return add("f" + hex_double(v) + " " + token);
    }
    bool string(std::string& s) { return add("s" + s); }
    bool binary(json::binary_t&) { return add("binary"); }
    bool start_object(std::size_t) {
        keys.emplace_back();
        return add("{");
    }
    bool key(std::string& k) {
        if (!keys.empty() && !keys.back().insert(k).second) {
            duplicate_key = true;
        }
        return add("k" + k);
    }
    bool end_object() {
        if (!keys.empty()) {
            keys.pop_back();
        }
        return add("}");
    }
    bool start_array(std::size_t) {
        keys.emplace_back();
        return add("[");
    }
    bool end_array() {
        if (!keys.empty()) {
            keys.pop_back();
        }
        return add("]");
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        return false;
    }

private:
    bool add(const std::string& e) {
        log += e;
        log += '\n';
        return true;
    }
};

std::string opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }
std::string opt(const std::optional<double>& v) { return v ? hex_double(*v) : "-"; }

// Every field of a trace but `raw`, as text (so a difference can be printed).
std::string describe(const Trace& t) {
    std::string s;
    auto field = [&](const char* name, const std::string& v) {
        s += name;
        s += '=';
        s += v;
        s += '\n';
    };
    auto messages = [&](const char* name, const std::vector<assay::Message>& ms) {
        for (const auto& m : ms) {
            field(name, m.role + ": " + m.content);
        }
    };
    field("trace_id", t.trace_id);
    field("timestamp_ms", std::to_string(t.timestamp_ms));
    field("timestamp_given", t.timestamp_given ? "1" : "0");
    field("received_ms", std::to_string(t.received_ms));
    field("input", t.input);
    messages("input_message", t.input_messages);
    field("output", t.output);
    messages("output_message", t.output_messages);
    field("reference", t.reference ? "+" + *t.reference : "-");
    for (const auto& c : t.context) {
        field("context", c);
    }
    const auto& m = t.metadata;
    for (const auto* f : {&m.feature, &m.tenant, &m.user_id, &m.session_id, &m.prompt_name,
                          &m.prompt_version, &m.model, &m.environment, &m.expected_format}) {
        field("metadata", *f);
    }
    for (const auto& tag : m.tags) {
        field("tag", tag);
    }
    field("extra", m.extra.dump(-1, ' ', false, json::error_handler_t::replace));
    field("input_tokens", opt(t.usage.input_tokens));
    field("output_tokens", opt(t.usage.output_tokens));
    field("cached_tokens", opt(t.usage.cached_tokens));
    field("cost_usd", opt(t.usage.cost_usd));
    field("latency_ms", opt(t.latency_ms));
    field("ttft_ms", opt(t.ttft_ms));
    field("finish_reason", t.finish_reason);
    field("error", t.error ? "+" + t.error->type + ": " + t.error->message : "-");
    return s;
}

std::string outcome(const assay::Result<Trace>& r) {
    return r.ok() ? describe(*r) : "error: " + r.status().to_string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // 1. The parser as the worker calls it.
    assay::ParseLimits limits;
    const auto parsed = assay::parse_trace(text, limits, k_received_ms);
    FUZZ_CHECK(parsed.ok() || !parsed.status().message().empty(), "a failure without a message");
    if (parsed.ok()) {
        FUZZ_CHECK(parsed->raw == text, "raw is not the text parsed");
        // nlohmann stops at a NUL byte; the parser must not accept what precedes one.
        FUZZ_CHECK(text.find('\0') == std::string_view::npos, "accepted a text with a NUL byte");
    }
    if (!parsed.ok() && parsed.status().code() == assay::StatusCode::limit_exceeded) {
        return 0;  // too deep or too large: nothing below may recurse into it
    }

    // 2. The fast reader against nlohmann's.
    Recorder fast;
    const auto fast_result = assay::fast_json_sax(text, fast);
    Recorder slow;
    const bool slow_ok = json::sax_parse(text.begin(), text.end(), &slow);
    if (fast_result == assay::FastJsonResult::accepted) {
        FUZZ_CHECK(slow_ok, "the fast reader accepted a text nlohmann rejects");
        FUZZ_CHECK(fast.log == slow.log,
                   "events differ:\nfast:\n" + fast.log + "nlohmann:\n" + slow.log);
    }
    if (!slow_ok) {
        FUZZ_CHECK(!parsed.ok(), "parse_trace accepted a text nlohmann rejects");
        return 0;
    }
    if (text.find('\0') != std::string_view::npos) {
        return 0;  // nlohmann read only what precedes the NUL: nothing to compare
    }

    // 3. The DOM path.
    const json value = json::parse(text, nullptr, false);
    FUZZ_CHECK(!value.is_discarded(), "sax_parse accepted, parse did not");
    const auto from_dom = assay::trace_from_json(value, k_received_ms);
    if (!slow.duplicate_key) {
        FUZZ_CHECK(parsed.ok() == from_dom.ok(),
                   "text path: " + outcome(parsed) + "\nDOM path: " + outcome(from_dom));
        if (parsed.ok()) {
            FUZZ_CHECK(describe(*parsed) == describe(*from_dom),
                       "text path:\n" + describe(*parsed) + "DOM path:\n" + describe(*from_dom));
        }
    }

    // 4. Encode (the compact text trace_from_json keeps) and parse again.
    if (from_dom.ok()) {
        assay::ParseLimits unlimited;
        unlimited.max_trace_bytes = from_dom->raw.size();
        unlimited.max_depth = 10000;
        const auto again = assay::parse_trace(from_dom->raw, unlimited, k_received_ms);
        FUZZ_CHECK(again.ok(),
                   "the encoded trace does not parse: " + outcome(again) + "\n" + from_dom->raw);
        FUZZ_CHECK(describe(*again) == describe(*from_dom),
                   "round trip:\n" + describe(*from_dom) + "after:\n" + describe(*again));
    }
    return 0;
}
