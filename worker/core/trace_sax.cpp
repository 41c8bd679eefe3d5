// The streaming Trace builder (trace_sax.h): one SAX state machine, the
// frame stack and the handlers for every field and message shape of the
// trace contract that push, fill and pop it. Longer than ~400 lines on
// purpose: it is one job, and splitting the handlers from the stack they
// share would scatter the contract's checks across files.
#include "core/trace_sax.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <vector>

#include "core/fast_json_sax.h"
#include "core/text.h"
#include "core/time_format.h"

namespace assay {

namespace {

using nlohmann::json;

// What the parser is inside of. Each frame knows how to take the events of
// its own level; nested values it does not keep are skipped.
enum class Frame {
    trace,        // the top-level object
    messages,     // "input"/"output" as an array of messages
    message,      // one {role, content} object
    parts,        // a message's content as an array of parts
    part,         // one {type, text} part
    context,      // the "context" array
    context_doc,  // one {content|text} context object
    metadata,     // the "metadata" object
    tags,         // "metadata.tags"
    usage,        // the "usage" object
    error,        // the "error" object
    skip,         // a value nobody keeps (any depth)
    dom,          // an unknown metadata value, kept as JSON
};

// The JSON type of an event, for "expected …, got <value>" messages.
enum class Got { null, boolean, number, string, object, array };

const char* got_name(Got g) {
    switch (g) {
        case Got::null:
            return "null";
        case Got::boolean:
            return "a boolean";
        case Got::number:
            return "a number";
        case Got::string:
            return "a string";
        case Got::object:
            return "an object";
        case Got::array:
            return "an array";
    }
    return "a value";
}

// A string value as it appears in a message: JSON-quoted, at most 40 bytes
// of it (cut on a UTF-8 boundary, "…" appended when cut).
std::string quoted(const std::string& s) {
    return json(excerpt(s, 40)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// nlohmann's "parse error at line L, column C: syntax error while parsing
// CTX - WHAT; DETAIL" as "WHAT at [line L, ]column C; DETAIL (while parsing
// CTX)"; the message unchanged when it has another shape.
std::string describe_parse_error_raw(const std::string& what) {
    static const std::string k_at = "parse error at line ";
    const size_t at = what.find(k_at);
    const size_t colon = at == std::string::npos ? std::string::npos : what.find(": ", at);
    if (colon == std::string::npos) {
        return what;
    }
    std::string place = what.substr(at + k_at.size(), colon - at - k_at.size());  // "1, column 2"
    // One line (a JSONL record): the column says it all.
    place = place.rfind("1, ", 0) == 0 ? place.substr(3) : "line " + place;
    std::string rest = what.substr(colon + 2);
    std::string context;
    static const std::string k_syntax = "syntax error while parsing ";
    const size_t dash = rest.find(" - ");
    if (rest.rfind(k_syntax, 0) == 0 && dash != std::string::npos) {
        context = rest.substr(k_syntax.size(), dash - k_syntax.size());
        rest = rest.substr(dash + 3);
    }
    const size_t semi = rest.find("; ");
    const std::string head = semi == std::string::npos ? rest : rest.substr(0, semi);
    const std::string tail = semi == std::string::npos ? "" : rest.substr(semi);
    return head + " at " + place + tail +
           (context.empty() ? "" : " (while parsing " + context + ")");
}

// nlohmann's message quotes the bytes it last read ("last read: '…'"), which
// may be a piece of invalid UTF-8: escaped, so the message can be stored,
// logged and sent back as text.
std::string describe_parse_error(const std::string& what) {
    return escape_invalid_utf8(describe_parse_error_raw(what));
}

// Where byte `at` of `text` is, as nlohmann says it: "column C" on the first
// line, else "line L, column C" (both from 1).
std::string text_position(std::string_view text, size_t at) {
    const std::string_view before = text.substr(0, at);
    const size_t newline = before.rfind('\n');
    const size_t column = newline == std::string_view::npos ? at + 1 : at - newline;
    if (newline == std::string_view::npos) {
        return "column " + std::to_string(column);
    }
    const auto line = std::count(before.begin(), before.end(), '\n') + 1;
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

struct Number {
    bool is_integer = false;  // an integer token (signed or unsigned)
    bool negative = false;
    uint64_t u = 0;  // the value, when a non-negative integer
    int64_t i = 0;   // the value, when a negative integer
    double d = 0;

    json to_json() const { return is_integer ? (negative ? json(i) : json(u)) : json(d); }
};

class TraceBuilder {
public:
    TraceBuilder(Trace& t, int64_t received_ms) : m_t(t), m_received_ms(received_ms) {}

    const Status& status() const { return m_status; }

    // --- nlohmann::json_sax interface ---------------------------------------
    bool null() { return value(Got::null, nullptr, nullptr, nullptr); }
    bool boolean(bool b) { return value(Got::boolean, nullptr, nullptr, &b); }
    bool number_integer(json::number_integer_t v) {
        Number n{true, v < 0, v < 0 ? 0 : static_cast<uint64_t>(v), v, static_cast<double>(v)};
        return value(Got::number, nullptr, &n, nullptr);
    }
    bool number_unsigned(json::number_unsigned_t v) {
        Number n{true, false, v, 0, static_cast<double>(v)};
        return value(Got::number, nullptr, &n, nullptr);
    }
    bool number_float(json::number_float_t v, const std::string& token) {
        Number n{false, v < 0, 0, 0, v};
        m_number_token = &token;
        return value(Got::number, nullptr, &n, nullptr);
    }
    bool string(std::string& s) { return value(Got::string, &s, nullptr, nullptr); }
    bool binary(json::binary_t&) { return fail("binary values are not JSON"); }
    bool start_object(std::size_t) { return open(Got::object); }
    bool start_array(std::size_t) { return open(Got::array); }
    bool key(std::string& k);
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
        m_status = Status::invalid_argument("invalid JSON: " + describe_parse_error(ex.what()));
        return false;
    }

    // After a successful parse: the checks that need the whole object.
    Status finish();

    // For a value already in memory, after key(): when the current key is an
    // unknown metadata key and `v` an object or array, moves `v` into
    // metadata.extra (what its events would build there, number types aside:
    // a non-negative integer stays signed) and returns true; else returns
    // false and leaves `v` alone (replay its events).
    bool take_metadata_value(json& v) {
        if (m_stack.empty() || top().frame != Frame::metadata || !(v.is_object() || v.is_array())) {
            return false;
        }
        const std::string& key = top().key;
        if (key == "tags" || m_t.metadata.known(key) != nullptr) {
            return false;
        }
        m_t.metadata.extra[key] = std::move(v);
        return true;
    }

private:
    struct Level {
        Frame frame;
        std::string where;      // field path for messages, e.g. "input[2]"
        std::string key;        // the current key in an object frame
        size_t index = 0;       // the next element's index in an array frame
        int depth = 0;          // for skip and dom frames
        bool implicit = false;  // a messages frame for a single message object
    };

    bool fail(std::string message) {
        m_status = Status::invalid_argument(std::move(message));
        return false;
    }
    bool wrong(const std::string& field, const char* expected, Got got) {
        return fail("field '" + field + "': expected " + expected + ", got " + got_text(got));
    }
    // The value being read, for messages: "-5", "true", "the string \"x\"";
    // its type ("an object") when it is not a scalar.
    std::string got_text(Got got) const;
    Level& top() { return m_stack.back(); }
    void push(Frame f, std::string where = {}) {
        m_stack.push_back({f, std::move(where), {}, 0, 0, false});
    }
    // Where an element of the current array frame is, e.g. "input[3]".
    std::string element() { return top().where + "[" + std::to_string(top().index++) + "]"; }

    bool value(Got got, std::string* s, const Number* n, const bool* b);
    bool scalar(Got got, std::string* s, const Number* n, const bool* b);
    bool open(Got got);
    bool close();
    bool trace_value(const std::string& key, Got got, std::string* s, const Number* n);
    bool trace_open(const std::string& key, Got got);
    bool metadata_value(const std::string& key, Got got, std::string* s, const Number* n,
                        const bool* b);
    bool usage_value(const std::string& key, Got got, const Number* n);
    bool dom_value(json v);
    void end_message();

    Trace& m_t;
    int64_t m_received_ms;
    Status m_status;
    std::vector<Level> m_stack;
    const std::string* m_number_token = nullptr;
    // The scalar being read (set only during value()), for got_text().
    const std::string* m_cur_s = nullptr;
    const Number* m_cur_n = nullptr;
    const bool* m_cur_b = nullptr;

    // State of the message being read.
    std::string* m_text = nullptr;               // input or output text
    std::vector<Message>* m_messages = nullptr;  // input or output messages
    Message m_message;
    std::string m_part_text;
    bool m_part_has_text = false;
    std::string m_doc;
    bool m_doc_found = false;
    bool m_doc_from_content = false;

    // Trace-level facts checked in finish().
    bool m_seen_output = false;
    bool m_output_null = false;
    std::optional<int64_t> m_prompt_tokens, m_completion_tokens;

    // Building an unknown metadata value.
    std::vector<json*> m_dom;
    std::string m_dom_key;
};

bool TraceBuilder::key(std::string& k) {
    Level& l = top();
    switch (l.frame) {
        case Frame::dom: {
            m_dom_key = std::move(k);
            return true;
        }
        case Frame::skip:
            return true;
        default:
            l.key = std::move(k);
            return true;
    }
}

bool TraceBuilder::open(Got got) {
    if (m_stack.empty()) {
        if (got != Got::object) {
            return fail(std::string("a trace must be a JSON object, got ") + got_name(got));
        }
        push(Frame::trace);
        return true;
    }
    Level& l = top();
    switch (l.frame) {
        case Frame::skip:
            ++l.depth;
            return true;
        case Frame::dom: {
            json* parent = m_dom.back();
            json child = got == Got::object ? json::object() : json::array();
            json* slot = nullptr;
            if (parent->is_object()) {
                slot = &((*parent)[m_dom_key] = std::move(child));
            } else {
                parent->push_back(std::move(child));
                slot = &parent->back();
            }
            m_dom.push_back(slot);
            ++l.depth;
            return true;
        }
        case Frame::trace:
            return trace_open(l.key, got);
        case Frame::messages: {
            std::string where = element();
            if (got != Got::object) {
                return wrong(where, "a message object {role, content}", got);
            }
            m_message = Message{};
            push(Frame::message, std::move(where));
            return true;
        }
        case Frame::message: {
            if (l.key == "content") {
                if (got != Got::array) {
                    return wrong(l.where + ".content", "a string or an array of content parts",
                                 got);
                }
                m_message.content.clear();
                push(Frame::parts, l.where + ".content");
                return true;
            }
            if (l.key == "role") {
                return wrong(l.where + ".role", "a string", got);
            }
            push(Frame::skip);
            top().depth = 1;
            return true;
        }
        case Frame::parts: {
            std::string where = element();
            if (got != Got::object) {
                return wrong(where, "a string or a content part", got);
            }
            m_part_text.clear();
            m_part_has_text = false;
            push(Frame::part, std::move(where));
            return true;
        }
        case Frame::context: {
            std::string where = "context[" + std::to_string(l.index++) + "]";
            if (got != Got::object) {
                return wrong(where, "a string or an object with 'content'", got);
            }
            m_doc.clear();
            m_doc_found = false;
            m_doc_from_content = false;
            push(Frame::context_doc, std::move(where));
            return true;
        }
        case Frame::metadata: {
            if (l.key == "tags") {
                if (got != Got::array) {
                    return wrong("metadata.tags", "an array of strings", got);
                }
                m_t.metadata.tags.clear();
                push(Frame::tags);
                return true;
            }
            if (m_t.metadata.known(l.key) != nullptr) {
                return wrong("metadata." + l.key, "a string", got);
            }
            json& slot = m_t.metadata.extra[l.key] =
                (got == Got::object ? json::object() : json::array());
            m_dom.assign(1, &slot);
            push(Frame::dom);
            top().depth = 1;
            return true;
        }
        case Frame::tags:
            return wrong("metadata.tags[" + std::to_string(l.index) + "]", "a string", got);
        case Frame::usage: {
            static const char* const k_counts[] = {"input_tokens", "output_tokens", "cached_tokens",
                                                   "prompt_tokens", "completion_tokens"};
            for (const char* c : k_counts) {
                if (l.key == c) {
                    return wrong("usage." + l.key, "a non-negative integer", got);
                }
            }
            if (l.key == "cost_usd") {
                return wrong("usage.cost_usd", "a non-negative number", got);
            }
            push(Frame::skip);
            top().depth = 1;
            return true;
        }
        case Frame::error:
            if (l.key == "type" || l.key == "message") {
                return wrong("error." + l.key, "a string", got);
            }
            push(Frame::skip);
            top().depth = 1;
            return true;
        case Frame::part:
        case Frame::context_doc:
            push(Frame::skip);
            top().depth = 1;
            return true;
    }
    return true;
}

bool TraceBuilder::trace_open(const std::string& key, Got got) {
    if (key == "input" || key == "output") {
        const bool in = key == "input";
        m_text = in ? &m_t.input : &m_t.output;
        m_messages = in ? &m_t.input_messages : &m_t.output_messages;
        m_text->clear();
        m_messages->clear();
        if (!in) {
            m_seen_output = true;
            m_output_null = false;
        }
        push(Frame::messages, key);
        if (got == Got::object) {  // a single message: as if in a one-element array
            top().implicit = true;
            m_message = Message{};
            push(Frame::message, element());
        }
        return true;
    }
    if (key == "context") {
        if (got != Got::array) {
            return wrong("context", "an array of strings", got);
        }
        m_t.context.clear();
        push(Frame::context);
        return true;
    }
    if (key == "metadata") {
        if (got != Got::object) {
            return wrong("metadata", "an object", got);
        }
        push(Frame::metadata);
        return true;
    }
    if (key == "usage") {
        if (got != Got::object) {
            return wrong("usage", "an object", got);
        }
        push(Frame::usage);
        return true;
    }
    if (key == "error") {
        if (got != Got::object) {
            return wrong("error", "null or an object {type, message}", got);
        }
        m_t.error = TraceError{};
        push(Frame::error);
        return true;
    }
    static const struct {
        const char* key;
        const char* expected;
    } k_scalars[] = {{"trace_id", "a string"},
                     {"timestamp", "an RFC 3339 string"},
                     {"reference", "a string"},
                     {"finish_reason", "a string"},
                     {"latency_ms", "a non-negative number"},
                     {"ttft_ms", "a non-negative number"}};
    for (const auto& f : k_scalars) {
        if (key == f.key) {
            return wrong(key, f.expected, got);
        }
    }
    push(Frame::skip);  // an unknown key: kept in raw, otherwise ignored
    top().depth = 1;
    return true;
}

void TraceBuilder::end_message() {
    if (!m_text->empty() && !m_message.content.empty()) {
        *m_text += "\n\n";
    }
    *m_text += m_message.content;
    m_messages->push_back(std::move(m_message));
    m_message = Message{};
}

bool TraceBuilder::close() {
    Level& l = top();
    const Frame frame = l.frame;
    switch (frame) {
        case Frame::skip:
            if (--l.depth > 0) {
                return true;
            }
            break;
        case Frame::dom:
            m_dom.pop_back();
            if (--l.depth > 0) {
                return true;
            }
            break;
        case Frame::message:
            end_message();
            break;
        case Frame::part:
            if (m_part_has_text) {
                if (!m_message.content.empty()) {
                    m_message.content += "\n";
                }
                m_message.content += m_part_text;
            }
            break;
        case Frame::context_doc:
            if (!m_doc_found) {
                return wrong(l.where, "a string or an object with 'content'", Got::object);
            }
            m_t.context.push_back(std::move(m_doc));
            break;
        case Frame::error:
            if (m_t.error->type.empty()) {
                m_t.error->type = "error";
            }
            break;
        default:
            break;
    }
    m_stack.pop_back();
    // A single message given as an object closes its implicit list too.
    if (frame == Frame::message && !m_stack.empty() && top().implicit) {
        m_stack.pop_back();
    }
    return true;
}

std::string TraceBuilder::got_text(Got got) const {
    if (got == Got::number && m_cur_n != nullptr) {
        const Number& n = *m_cur_n;
        if (!n.is_integer && m_number_token != nullptr) {
            return *m_number_token;
        }
        return n.negative ? std::to_string(n.i) : std::to_string(n.u);
    }
    if (got == Got::string && m_cur_s != nullptr) {
        return "the string " + quoted(*m_cur_s);
    }
    if (got == Got::boolean && m_cur_b != nullptr) {
        return *m_cur_b ? "true" : "false";
    }
    return got_name(got);
}

bool TraceBuilder::value(Got got, std::string* s, const Number* n, const bool* b) {
    m_cur_s = s;
    m_cur_n = n;
    m_cur_b = b;
    const bool ok = scalar(got, s, n, b);
    m_cur_s = nullptr;
    m_cur_n = nullptr;
    m_cur_b = nullptr;
    return ok;
}

bool TraceBuilder::scalar(Got got, std::string* s, const Number* n, const bool* b) {
    if (m_stack.empty()) {
        return fail(std::string("a trace must be a JSON object, got ") + got_text(got));
    }
    Level& l = top();
    switch (l.frame) {
        case Frame::skip:
            return true;
        case Frame::dom: {
            json v;
            if (s != nullptr) {
                v = std::move(*s);
            } else if (n != nullptr) {
                v = n->to_json();
            } else if (b != nullptr) {
                v = *b;
            }
            return dom_value(std::move(v));
        }
        case Frame::trace:
            return trace_value(l.key, got, s, n);
        case Frame::messages: {
            std::string where = element();
            return wrong(where, "a message object {role, content}", got);
        }
        case Frame::message:
            if (l.key == "role") {
                if (got == Got::string) {
                    m_message.role = std::move(*s);
                } else if (got != Got::null) {
                    return wrong(l.where + ".role", "a string", got);
                }
            } else if (l.key == "content") {
                if (got == Got::string) {
                    m_message.content = std::move(*s);
                } else if (got == Got::null) {
                    m_message.content.clear();
                } else {
                    return wrong(l.where + ".content", "a string or an array of content parts",
                                 got);
                }
            }
            return true;
        case Frame::parts:
            if (got == Got::string) {
                ++l.index;
                m_message.content += *s;
                return true;
            }
            return wrong(element(), "a string or a content part", got);
        case Frame::part:
            if (l.key == "text" && got == Got::string) {
                m_part_text = std::move(*s);
                m_part_has_text = true;
            }
            return true;
        case Frame::context:
            if (got == Got::string) {
                ++l.index;
                m_t.context.push_back(std::move(*s));
                return true;
            }
            return wrong("context[" + std::to_string(l.index++) + "]",
                         "a string or an object with 'content'", got);
        case Frame::context_doc:
            if (got == Got::string &&
                (l.key == "content" || (l.key == "text" && !m_doc_from_content))) {
                m_doc = std::move(*s);
                m_doc_found = true;
                m_doc_from_content = m_doc_from_content || l.key == "content";
            }
            return true;
        case Frame::metadata:
            return metadata_value(l.key, got, s, n, b);
        case Frame::tags:
            if (got != Got::string) {
                return wrong("metadata.tags[" + std::to_string(l.index) + "]", "a string", got);
            }
            ++l.index;
            m_t.metadata.tags.push_back(std::move(*s));
            return true;
        case Frame::usage:
            return usage_value(l.key, got, n);
        case Frame::error:
            if (l.key == "type" || l.key == "message") {
                if (got == Got::string) {
                    (l.key == "type" ? m_t.error->type : m_t.error->message) = std::move(*s);
                } else if (got != Got::null) {
                    return wrong("error." + l.key, "a string", got);
                }
            }
            return true;
    }
    return true;
}

bool TraceBuilder::dom_value(json v) {
    json* parent = m_dom.back();
    if (parent->is_object()) {
        (*parent)[m_dom_key] = std::move(v);
    } else {
        parent->push_back(std::move(v));
    }
    return true;
}

bool TraceBuilder::trace_value(const std::string& key, Got got, std::string* s, const Number* n) {
    auto nonneg = [&](std::optional<double>& out) {
        if (got == Got::null) {
            out.reset();
            return true;
        }
        if (got != Got::number || n->d < 0) {
            return wrong(key, "a non-negative number", got);
        }
        out = n->d;
        return true;
    };
    if (key == "trace_id") {
        if (got == Got::null) {
            m_t.trace_id.clear();
            return true;
        }
        if (got != Got::string) {
            return wrong("trace_id", "a string", got);
        }
        m_t.trace_id = std::move(*s);
        if (m_t.trace_id.empty() || m_t.trace_id.size() > 256) {
            return fail("field 'trace_id': must be 1-256 bytes, got " +
                        std::to_string(m_t.trace_id.size()));
        }
        return true;
    }
    if (key == "timestamp") {
        if (got == Got::null) {
            return true;
        }
        if (got != Got::string) {
            return wrong("timestamp", "an RFC 3339 string", got);
        }
        auto ms = parse_rfc3339_ms(*s);
        if (!ms.ok()) {
            return fail("field 'timestamp': " + ms.status().message());
        }
        m_t.timestamp_ms = *ms;
        m_t.timestamp_given = true;
        return true;
    }
    if (key == "input" || key == "output") {
        const bool in = key == "input";
        std::string& text = in ? m_t.input : m_t.output;
        (in ? m_t.input_messages : m_t.output_messages).clear();
        if (!in) {
            m_seen_output = true;
            m_output_null = got == Got::null;
        }
        if (got == Got::string) {
            text = std::move(*s);
            return true;
        }
        text.clear();
        if (got == Got::null) {
            return true;
        }
        return wrong(key, "a string or an array of messages", got);
    }
    if (key == "reference") {
        if (got == Got::null) {
            m_t.reference.reset();
            return true;
        }
        if (got != Got::string) {
            return wrong("reference", "a string", got);
        }
        m_t.reference = std::move(*s);
        return true;
    }
    if (key == "context") {
        m_t.context.clear();
        if (got == Got::string) {
            m_t.context.push_back(std::move(*s));
        } else if (got != Got::null) {
            return wrong("context", "an array of strings", got);
        }
        return true;
    }
    if (key == "metadata" || key == "usage") {
        if (got != Got::null) {
            return wrong(key, "an object", got);
        }
        return true;
    }
    if (key == "latency_ms") {
        return nonneg(m_t.latency_ms);
    }
    if (key == "ttft_ms") {
        return nonneg(m_t.ttft_ms);
    }
    if (key == "finish_reason") {
        if (got == Got::string) {
            m_t.finish_reason = std::move(*s);
        } else if (got == Got::null) {
            m_t.finish_reason.clear();
        } else {
            return wrong("finish_reason", "a string", got);
        }
        return true;
    }
    if (key == "error") {
        if (got == Got::null) {
            m_t.error.reset();
        } else if (got == Got::string) {
            m_t.error = TraceError{"error", std::move(*s)};
        } else {
            return wrong("error", "null or an object {type, message}", got);
        }
        return true;
    }
    return true;  // unknown keys are kept in raw only
}

bool TraceBuilder::metadata_value(const std::string& key, Got got, std::string* s, const Number* n,
                                  const bool* b) {
    if (key == "tags") {
        if (got == Got::null) {
            m_t.metadata.tags.clear();
            return true;
        }
        return wrong("metadata.tags", "an array of strings", got);
    }
    if (std::string* field = const_cast<std::string*>(m_t.metadata.known(key))) {
        if (got == Got::string) {
            *field = std::move(*s);
        } else if (got == Got::number) {
            // e.g. prompt_version: 4 -> "4"
            *field = n->is_integer ? (n->negative ? std::to_string(n->i) : std::to_string(n->u))
                                   : *m_number_token;
        } else if (got == Got::null) {
            field->clear();
        } else {
            return wrong("metadata." + key, "a string", got);
        }
        return true;
    }
    json v;
    if (s != nullptr) {
        v = std::move(*s);
    } else if (n != nullptr) {
        v = n->to_json();
    } else if (b != nullptr) {
        v = *b;
    }
    m_t.metadata.extra[key] = std::move(v);
    return true;
}

bool TraceBuilder::usage_value(const std::string& key, Got got, const Number* n) {
    Usage& u = m_t.usage;
    auto count = [&](std::optional<int64_t>& out) {
        if (got == Got::null) {
            out.reset();
            return true;
        }
        if (got == Got::number && !n->negative) {
            if (n->is_integer && n->u <= static_cast<uint64_t>(INT64_MAX)) {
                out = static_cast<int64_t>(n->u);
                return true;
            }
            if (!n->is_integer && std::floor(n->d) == n->d && n->d < 9e15) {
                out = static_cast<int64_t>(n->d);
                return true;
            }
        }
        return wrong("usage." + key, "a non-negative integer", got);
    };
    if (key == "input_tokens") {
        return count(u.input_tokens);
    }
    if (key == "output_tokens") {
        return count(u.output_tokens);
    }
    if (key == "cached_tokens") {
        return count(u.cached_tokens);
    }
    if (key == "prompt_tokens") {
        return count(m_prompt_tokens);
    }
    if (key == "completion_tokens") {
        return count(m_completion_tokens);
    }
    if (key == "cost_usd") {
        if (got == Got::null) {
            u.cost_usd.reset();
            return true;
        }
        if (got != Got::number || n->d < 0) {
            return wrong("usage.cost_usd", "a non-negative number", got);
        }
        u.cost_usd = n->d;
    }
    return true;
}

Status TraceBuilder::finish() {
    if (m_t.trace_id.empty()) {
        return Status::invalid_argument("field 'trace_id' is required");
    }
    if (!m_seen_output) {
        return Status::invalid_argument("field 'output' is required");
    }
    if (m_output_null && !m_t.error) {
        return Status::invalid_argument("field 'output' is null and no 'error' is given");
    }
    if (!m_t.timestamp_given) {
        m_t.timestamp_ms = m_received_ms;
    }
    // OpenAI spellings are aliases, used when the canonical key is absent.
    if (!m_t.usage.input_tokens) {
        m_t.usage.input_tokens = m_prompt_tokens;
    }
    if (!m_t.usage.output_tokens) {
        m_t.usage.output_tokens = m_completion_tokens;
    }
    return {};
}

}  // namespace

Status build_trace(std::string_view text, int64_t received_ms, Trace& out) {
    try {
        TraceBuilder fast(out, received_ms);
        switch (fast_json_sax(text, fast)) {
            case FastJsonResult::accepted:
                return fast.finish();
            case FastJsonResult::stopped:
                return fast.status().ok() ? Status::invalid_argument("invalid JSON")
                                          : fast.status();
            case FastJsonResult::not_handled:
                break;
        }
    } catch (const std::exception& e) {  // not expected, as below
        return Status::invalid_argument("invalid JSON: " + escape_invalid_utf8(e.what()));
    }
    // Not well-formed (or a rare form the fast reader leaves alone): nlohmann's
    // parser reads it again from a fresh trace, for its exact error message.
    const int64_t received = out.received_ms;
    out = Trace{};
    out.received_ms = received;
    TraceBuilder b(out, received_ms);
    bool ok = false;
    try {
        ok = json::sax_parse(text.begin(), text.end(), &b);
    } catch (const std::exception& e) {  // not expected: the SAX interface reports errors
        return Status::invalid_argument("invalid JSON: " + escape_invalid_utf8(e.what()));
    }
    if (!ok) {
        return b.status().ok() ? Status::invalid_argument("invalid JSON") : b.status();
    }
    // nlohmann's lexer takes a NUL byte for the end of the input, so it
    // accepted the value before one: a NUL is never valid JSON.
    if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return Status::invalid_argument("invalid JSON: unexpected NUL byte at " +
                                        text_position(text, nul) + "; expected end of input");
    }
    return b.finish();
}

namespace {

// Replays a JSON value as the SAX events a parser of its text would send.
// With a mutable value (`Json` = json) its strings are handed to the builder,
// which moves them, and the objects and arrays of unknown metadata keys move
// into metadata.extra whole (take_metadata_value), instead of being copied
// event by event; a const value is copied.
template <class Json>
bool replay(Json& v, TraceBuilder& b) {
    constexpr bool k_consume = !std::is_const_v<Json>;
    switch (v.type()) {
        case json::value_t::null:
            return b.null();
        case json::value_t::boolean:
            return b.boolean(v.template get<bool>());
        case json::value_t::number_integer:
            return b.number_integer(v.template get<json::number_integer_t>());
        case json::value_t::number_unsigned:
            return b.number_unsigned(v.template get<json::number_unsigned_t>());
        case json::value_t::number_float:
            return b.number_float(v.template get<json::number_float_t>(), v.dump());
        case json::value_t::string: {
            if constexpr (k_consume) {
                return b.string(v.template get_ref<std::string&>());
            } else {
                std::string s = v.template get<std::string>();
                return b.string(s);
            }
        }
        case json::value_t::object: {
            if (!b.start_object(v.size())) {
                return false;
            }
            for (auto it = v.begin(); it != v.end(); ++it) {
                std::string key = it.key();
                if (!b.key(key)) {
                    return false;
                }
                if constexpr (k_consume) {
                    if (b.take_metadata_value(it.value())) {
                        continue;
                    }
                }
                if (!replay(it.value(), b)) {
                    return false;
                }
            }
            return b.end_object();
        }
        case json::value_t::array: {
            if (!b.start_array(v.size())) {
                return false;
            }
            for (auto& item : v) {
                if (!replay(item, b)) {
                    return false;
                }
            }
            return b.end_array();
        }
        case json::value_t::binary:
        case json::value_t::discarded:
            break;
    }
    json::binary_t bin;
    return b.binary(bin);
}

template <class Json>
Status build_from_value(Json& value, int64_t received_ms, Trace& out) {
    TraceBuilder b(out, received_ms);
    if (!replay(value, b)) {
        return b.status().ok() ? Status::invalid_argument("invalid trace") : b.status();
    }
    return b.finish();
}

}  // namespace

Status build_trace(const json& value, int64_t received_ms, Trace& out) {
    return build_from_value(value, received_ms, out);
}

Status build_trace(json&& value, int64_t received_ms, Trace& out) {
    return build_from_value(value, received_ms, out);
}

}  // namespace assay
