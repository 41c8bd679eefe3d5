#include "ingest/trace_parser.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace assay {

using nlohmann::json;

namespace {

const char* json_type(const json& j) {
    switch (j.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "boolean";
        case json::value_t::string: return "string";
        case json::value_t::array: return "array";
        case json::value_t::object: return "object";
        case json::value_t::number_float:
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "number";
        default: return "value";
    }
}

// Moves the string out of a string node (the DOM is discarded afterwards).
std::string take(json& j) { return std::move(j.get_ref<std::string&>()); }

Status wrong_type(const std::string& field, const char* expected, const json& got) {
    return Status::invalid_argument("field '" + field + "': expected " + expected + ", got " +
                                    json_type(got));
}

// Depth of [ and { nesting outside strings; stops early past `limit`.
size_t nesting_depth(std::string_view s, size_t limit) {
    size_t depth = 0;
    size_t max_depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
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
            if (++depth > max_depth) {
                max_depth = depth;
                if (max_depth > limit) {
                    return max_depth;
                }
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return max_depth;
}

// Content of a message: a string, or OpenAI-style parts [{type:"text", text:"…"}].
Status message_content(json& c, const std::string& field, std::string& out) {
    if (c.is_string()) {
        out = take(c);
        return {};
    }
    if (c.is_null()) {
        out.clear();
        return {};
    }
    if (c.is_array()) {
        out.clear();
        for (size_t i = 0; i < c.size(); ++i) {
            const json& part = c[i];
            if (part.is_string()) {
                out += part.get_ref<const std::string&>();
                continue;
            }
            if (!part.is_object()) {
                return wrong_type(field + "[" + std::to_string(i) + "]", "a string or a content part",
                                  part);
            }
            auto t = part.find("text");
            if (t != part.end() && t->is_string()) {
                if (!out.empty()) {
                    out += "\n";
                }
                out += t->get_ref<const std::string&>();
            }
        }
        return {};
    }
    return wrong_type(field, "a string or an array of content parts", c);
}

// "input"/"output": a string, or an array of {role, content} messages.
Status text_or_messages(json& j, const std::string& field, std::string& text,
                        std::vector<Message>& messages) {
    if (j.is_string()) {
        text = take(j);
        return {};
    }
    if (j.is_object()) {  // a single message
        json arr = json::array({j});
        return text_or_messages(arr, field, text, messages);
    }
    if (!j.is_array()) {
        return wrong_type(field, "a string or an array of messages", j);
    }
    text.clear();
    messages.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
        json& m = j[i];
        const std::string where = field + "[" + std::to_string(i) + "]";
        if (!m.is_object()) {
            return wrong_type(where, "a message object {role, content}", m);
        }
        Message msg;
        auto role = m.find("role");
        if (role != m.end()) {
            if (!role->is_string()) {
                return wrong_type(where + ".role", "a string", *role);
            }
            msg.role = take(*role);
        }
        auto content = m.find("content");
        if (content != m.end()) {
            ASSAY_RETURN_IF_ERROR(message_content(*content, where + ".content", msg.content));
        }
        if (!text.empty() && !msg.content.empty()) {
            text += "\n\n";
        }
        text += msg.content;
        messages.push_back(std::move(msg));
    }
    return {};
}

Status optional_count(const json& obj, const char* key, const std::string& prefix,
                      std::optional<int64_t>& out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return {};
    }
    if (it->is_number_unsigned() || (it->is_number_integer() && it->get<int64_t>() >= 0)) {
        out = it->get<int64_t>();
        return {};
    }
    if (it->is_number_float()) {
        double d = it->get<double>();
        if (d >= 0 && std::floor(d) == d && d < 9e15) {
            out = static_cast<int64_t>(d);
            return {};
        }
    }
    return wrong_type(prefix + key, "a non-negative integer", *it);
}

Status optional_nonneg(const json& obj, const char* key, const std::string& prefix,
                       std::optional<double>& out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return {};
    }
    if (!it->is_number() || it->get<double>() < 0) {
        return wrong_type(prefix + key, "a non-negative number", *it);
    }
    out = it->get<double>();
    return {};
}

Status parse_metadata(json& j, Metadata& md) {
    if (!j.is_object()) {
        return wrong_type("metadata", "an object", j);
    }
    // Well-known keys move into their fields; the rest stays in `extra`.
    for (auto it = j.begin(); it != j.end();) {
        std::string* field = const_cast<std::string*>(md.known(it.key()));
        if (field == nullptr) {
            ++it;
            continue;
        }
        if (it->is_string()) {
            *field = take(*it);
        } else if (it->is_number()) {
            *field = it->dump();  // e.g. prompt_version: 4
        } else if (!it->is_null()) {
            return wrong_type("metadata." + it.key(), "a string", *it);
        }
        it = j.erase(it);
    }
    auto tags = j.find("tags");
    if (tags != j.end() && !tags->is_null()) {
        if (!tags->is_array()) {
            return wrong_type("metadata.tags", "an array of strings", *tags);
        }
        for (size_t i = 0; i < tags->size(); ++i) {
            if (!(*tags)[i].is_string()) {
                return wrong_type("metadata.tags[" + std::to_string(i) + "]", "a string", (*tags)[i]);
            }
            md.tags.push_back(take((*tags)[i]));
        }
        j.erase(tags);
    }
    md.extra = std::move(j);
    return {};
}

Status parse_usage(const json& j, Usage& u) {
    if (!j.is_object()) {
        return wrong_type("usage", "an object", j);
    }
    const std::string p = "usage.";
    ASSAY_RETURN_IF_ERROR(optional_count(j, "input_tokens", p, u.input_tokens));
    ASSAY_RETURN_IF_ERROR(optional_count(j, "output_tokens", p, u.output_tokens));
    ASSAY_RETURN_IF_ERROR(optional_count(j, "cached_tokens", p, u.cached_tokens));
    // OpenAI spellings are accepted as aliases.
    if (!u.input_tokens) {
        ASSAY_RETURN_IF_ERROR(optional_count(j, "prompt_tokens", p, u.input_tokens));
    }
    if (!u.output_tokens) {
        ASSAY_RETURN_IF_ERROR(optional_count(j, "completion_tokens", p, u.output_tokens));
    }
    ASSAY_RETURN_IF_ERROR(optional_nonneg(j, "cost_usd", p, u.cost_usd));
    return {};
}

Status parse_fields(json& j, int64_t received_ms, Trace& t) {
    if (!j.is_object()) {
        return Status::invalid_argument(std::string("a trace must be a JSON object, got ") + json_type(j));
    }
    auto id = j.find("trace_id");
    if (id == j.end() || id->is_null()) {
        return Status::invalid_argument("field 'trace_id' is required");
    }
    if (!id->is_string()) {
        return wrong_type("trace_id", "a string", *id);
    }
    t.trace_id = take(*id);
    if (t.trace_id.empty() || t.trace_id.size() > 256) {
        return Status::invalid_argument("field 'trace_id': must be 1-256 bytes, got " +
                                        std::to_string(t.trace_id.size()));
    }

    auto ts = j.find("timestamp");
    if (ts != j.end() && !ts->is_null()) {
        if (!ts->is_string()) {
            return wrong_type("timestamp", "an RFC 3339 string", *ts);
        }
        auto ms = parse_rfc3339_ms(ts->get_ref<const std::string&>());
        if (!ms.ok()) {
            return Status::invalid_argument("field 'timestamp': " + ms.status().message());
        }
        t.timestamp_ms = *ms;
        t.timestamp_given = true;
    } else {
        t.timestamp_ms = received_ms;
    }

    auto in = j.find("input");
    if (in != j.end() && !in->is_null()) {
        ASSAY_RETURN_IF_ERROR(text_or_messages(*in, "input", t.input, t.input_messages));
    }
    auto out = j.find("output");
    if (out == j.end()) {
        return Status::invalid_argument("field 'output' is required");
    }
    if (out->is_null()) {
        // Allowed only when the call failed: the error says why there is none.
        auto err = j.find("error");
        if (err == j.end() || err->is_null()) {
            return Status::invalid_argument("field 'output' is null and no 'error' is given");
        }
    } else {
        ASSAY_RETURN_IF_ERROR(text_or_messages(*out, "output", t.output, t.output_messages));
    }

    auto ref = j.find("reference");
    if (ref != j.end() && !ref->is_null()) {
        if (!ref->is_string()) {
            return wrong_type("reference", "a string", *ref);
        }
        t.reference = take(*ref);
    }
    auto ctx = j.find("context");
    if (ctx != j.end() && !ctx->is_null()) {
        if (ctx->is_string()) {
            t.context.push_back(take(*ctx));
        } else if (ctx->is_array()) {
            for (size_t i = 0; i < ctx->size(); ++i) {
                json& d = (*ctx)[i];
                std::string doc;
                if (d.is_string()) {
                    doc = take(d);
                } else if (d.is_object() && d.contains("content") && d["content"].is_string()) {
                    doc = take(d["content"]);
                } else if (d.is_object() && d.contains("text") && d["text"].is_string()) {
                    doc = take(d["text"]);
                } else {
                    return wrong_type("context[" + std::to_string(i) + "]",
                                      "a string or an object with 'content'", d);
                }
                t.context.push_back(std::move(doc));
            }
        } else {
            return wrong_type("context", "an array of strings", *ctx);
        }
    }
    auto md = j.find("metadata");
    if (md != j.end() && !md->is_null()) {
        ASSAY_RETURN_IF_ERROR(parse_metadata(*md, t.metadata));
    }
    auto usage = j.find("usage");
    if (usage != j.end() && !usage->is_null()) {
        ASSAY_RETURN_IF_ERROR(parse_usage(*usage, t.usage));
    }
    ASSAY_RETURN_IF_ERROR(optional_nonneg(j, "latency_ms", "", t.latency_ms));
    ASSAY_RETURN_IF_ERROR(optional_nonneg(j, "ttft_ms", "", t.ttft_ms));
    auto fr = j.find("finish_reason");
    if (fr != j.end() && !fr->is_null()) {
        if (!fr->is_string()) {
            return wrong_type("finish_reason", "a string", *fr);
        }
        t.finish_reason = take(*fr);
    }
    auto err = j.find("error");
    if (err != j.end() && !err->is_null()) {
        TraceError e;
        if (err->is_string()) {
            e.type = "error";
            e.message = err->get<std::string>();
        } else if (err->is_object()) {
            auto et = err->find("type");
            auto em = err->find("message");
            if (et != err->end() && !et->is_null()) {
                if (!et->is_string()) {
                    return wrong_type("error.type", "a string", *et);
                }
                e.type = et->get<std::string>();
            }
            if (em != err->end() && !em->is_null()) {
                if (!em->is_string()) {
                    return wrong_type("error.message", "a string", *em);
                }
                e.message = em->get<std::string>();
            }
            if (e.type.empty()) {
                e.type = "error";
            }
        } else {
            return wrong_type("error", "null or an object {type, message}", *err);
        }
        t.error = std::move(e);
    }
    return {};
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

Result<int64_t> parse_rfc3339_ms(std::string_view s) {
    auto bad = [&]() {
        return Status::invalid_argument("'" + std::string(s.substr(0, 64)) +
                                        "' is not an RFC 3339 time like 2026-11-22T10:00:00Z");
    };
    auto digits = [&](size_t pos, size_t n, int& out) {
        if (pos + n > s.size()) {
            return false;
        }
        out = 0;
        for (size_t i = pos; i < pos + n; ++i) {
            if (s[i] < '0' || s[i] > '9') {
                return false;
            }
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!digits(0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
        !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, h) ||
        s[13] != ':' || !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, se)) {
        return bad();
    }
    static const int k_mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > k_mdays[mo - 1] || h > 23 || mi > 59 || se > 60) {
        return bad();
    }
    size_t pos = 19;
    int64_t frac_ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (scale > 0) {
                frac_ms += (s[pos] - '0') * scale;
                scale /= 10;
            }
            ++pos;
        }
        if (pos == start) {
            return bad();
        }
    }
    int64_t offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh = 0, om = 0;
        if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(pos + 4, 2, om) || oh > 23 || om > 59) {
            return bad();
        }
        offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return bad();
    }
    if (pos != s.size()) {
        return bad();
    }
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + std::min(se, 59) - offset_min * 60;
    return secs * 1000 + frac_ms;
}

std::string format_rfc3339_ms(int64_t ms) {
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t rem_ms = ms - secs * 1000;
    int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
    int64_t sod = secs - z * 86400;
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(sod / 3600),
                  static_cast<long long>((sod / 60) % 60), static_cast<long long>(sod % 60),
                  static_cast<long long>(rem_ms));
    return buf;
}

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

Result<Trace> parse_impl(std::string_view text, const ParseLimits& limits, int64_t received_ms) {
    if (text.size() > limits.max_trace_bytes) {
        return Status::limit_exceeded("trace is " + std::to_string(text.size()) +
                                      " bytes; the limit (ingest.max_trace_bytes) is " +
                                      std::to_string(limits.max_trace_bytes));
    }
    // Fast path: a text with few brackets cannot nest deeply (vectorised count).
    const auto brackets = static_cast<size_t>(std::count(text.begin(), text.end(), '[') +
                                              std::count(text.begin(), text.end(), '{'));
    if (brackets > limits.max_depth && nesting_depth(text, limits.max_depth) > limits.max_depth) {
        return Status::limit_exceeded("JSON nests deeper than " + std::to_string(limits.max_depth) +
                                      " levels (ingest.max_depth)");
    }
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        // The JSON parser rejects ill-formed UTF-8 too; name the byte.
        size_t bad = find_invalid_utf8(text);
        if (bad != std::string_view::npos) {
            return Status::invalid_argument("invalid UTF-8 at byte " + std::to_string(bad));
        }
        std::string what = e.what();
        auto p = what.find("] ");
        return Status::invalid_argument("invalid JSON: " +
                                        (p == std::string::npos ? what : what.substr(p + 2)));
    }
    Trace t;
    t.received_ms = received_ms;
    ASSAY_RETURN_IF_ERROR(parse_fields(j, received_ms, t));
    return t;
}

}  // namespace

Result<Trace> parse_trace(std::string_view text, const ParseLimits& limits, int64_t received_ms) {
    auto t = parse_impl(text, limits, received_ms);
    if (t.ok()) {
        t->raw.assign(text.data(), text.size());
    }
    return t;
}

Result<Trace> parse_trace(std::string&& text, const ParseLimits& limits, int64_t received_ms) {
    auto t = parse_impl(text, limits, received_ms);
    if (t.ok()) {
        t->raw = std::move(text);
    }
    return t;
}

}  // namespace assay
