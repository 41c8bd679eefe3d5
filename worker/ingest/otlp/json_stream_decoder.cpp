// Over 400 lines on purpose: the streaming decoder's whole state machine (the
// keys it reads, the frames they open, the values they take) stays in one
// place, next to the rules it mirrors.
//
// The streaming OTLP JSON decoder (json_stream_decoder.h). Its rules mirror
// the tree decoder's (mapper.cpp, Decoder) member by member; wherever that
// decoder would report an error or read a form this one does not (an alias,
// a duplicate key, an enum sent as a float), this one declines instead.
#include "ingest/otlp/json_stream_decoder.h"

#include <array>
#include <deque>
#include <limits>
#include <memory>
#include <string>

#include "core/fast_json_sax.h"
#include "ingest/otlp/json_scalars.h"

namespace assay {

namespace {

using json = nlohmann::json;

// The container the reader is in.
enum class Ctx : uint8_t {
    root,
    rs_list,
    rs,
    resource,
    ss_list,
    ss,
    scope,
    span_list,
    span,
    event_list,
    event,
    status,
    kv_list,
    kv,
    any,
    array_value,
    array_items,
    kvlist_value,
    skip,  // a value of an unknown key: read over
};

// What the value after a key is (one bit each in Frame::seen: under 64).
enum class Want : uint8_t {
    none,  // no key pending: the next value is an element of a list
    skip,
    rs_list,
    resource,
    resource_attrs,
    ss_list,
    scope,
    scope_name,
    span_list,
    trace_id,
    span_id,
    parent_id,
    flags,
    name,
    kind,
    start,
    end,
    span_attrs,
    events,
    status,
    status_code,
    status_message,
    event_time,
    event_name,
    event_attrs,
    kv_key,
    kv_value,
    string_value,
    bool_value,
    int_value,
    double_value,
    array_value,
    kvlist_value,
    bytes_value,
    array_items,
    kvlist_items,
};

bool typed_member(Want w) { return w >= Want::string_value && w <= Want::bytes_value; }

// The keys each object reads (camelCase, as the SDKs send them). Want::none:
// an alias of the tree decoder's (snake_case, the old
// instrumentationLibrary* names), declined.
struct KeyRule {
    Ctx ctx;
    const char* key;
    Want want;
};
constexpr KeyRule k_keys[] = {
    {Ctx::root, "resourceSpans", Want::rs_list},
    {Ctx::root, "resource_spans", Want::none},
    {Ctx::rs, "resource", Want::resource},
    {Ctx::rs, "scopeSpans", Want::ss_list},
    {Ctx::rs, "scope_spans", Want::none},
    {Ctx::rs, "instrumentationLibrarySpans", Want::none},
    {Ctx::rs, "instrumentation_library_spans", Want::none},
    {Ctx::resource, "attributes", Want::resource_attrs},
    {Ctx::ss, "scope", Want::scope},
    {Ctx::ss, "spans", Want::span_list},
    {Ctx::ss, "instrumentationLibrary", Want::none},
    {Ctx::ss, "instrumentation_library", Want::none},
    {Ctx::scope, "name", Want::scope_name},
    {Ctx::span, "traceId", Want::trace_id},
    {Ctx::span, "spanId", Want::span_id},
    {Ctx::span, "parentSpanId", Want::parent_id},
    {Ctx::span, "flags", Want::flags},
    {Ctx::span, "name", Want::name},
    {Ctx::span, "kind", Want::kind},
    {Ctx::span, "startTimeUnixNano", Want::start},
    {Ctx::span, "endTimeUnixNano", Want::end},
    {Ctx::span, "attributes", Want::span_attrs},
    {Ctx::span, "events", Want::events},
    {Ctx::span, "status", Want::status},
    {Ctx::span, "trace_id", Want::none},
    {Ctx::span, "span_id", Want::none},
    {Ctx::span, "parent_span_id", Want::none},
    {Ctx::span, "start_time_unix_nano", Want::none},
    {Ctx::span, "end_time_unix_nano", Want::none},
    {Ctx::event, "timeUnixNano", Want::event_time},
    {Ctx::event, "name", Want::event_name},
    {Ctx::event, "attributes", Want::event_attrs},
    {Ctx::event, "time_unix_nano", Want::none},
    {Ctx::status, "code", Want::status_code},
    {Ctx::status, "message", Want::status_message},
    {Ctx::kv, "key", Want::kv_key},
    {Ctx::kv, "value", Want::kv_value},
    {Ctx::any, "stringValue", Want::string_value},
    {Ctx::any, "boolValue", Want::bool_value},
    {Ctx::any, "intValue", Want::int_value},
    {Ctx::any, "doubleValue", Want::double_value},
    {Ctx::any, "arrayValue", Want::array_value},
    {Ctx::any, "kvlistValue", Want::kvlist_value},
    {Ctx::any, "bytesValue", Want::bytes_value},
    {Ctx::any, "string_value", Want::none},
    {Ctx::any, "bool_value", Want::none},
    {Ctx::any, "int_value", Want::none},
    {Ctx::any, "double_value", Want::none},
    {Ctx::any, "array_value", Want::none},
    {Ctx::any, "kvlist_value", Want::none},
    {Ctx::any, "bytes_value", Want::none},
    {Ctx::array_value, "values", Want::array_items},
    {Ctx::kvlist_value, "values", Want::kvlist_items},
};

// The frame a value opens when it needs nothing set up (an object when
// `object`, else a list); Ctx::root when it is not such a value.
Ctx plain_frame(Want w, bool object) {
    struct Rule {
        Want want;
        bool object;
        Ctx ctx;
    };
    static constexpr Rule k_rules[] = {
        {Want::resource, true, Ctx::resource},  {Want::scope, true, Ctx::scope},
        {Want::status, true, Ctx::status},      {Want::rs_list, false, Ctx::rs_list},
        {Want::ss_list, false, Ctx::ss_list},   {Want::span_list, false, Ctx::span_list},
        {Want::events, false, Ctx::event_list},
    };
    if (w == Want::skip) {
        return Ctx::skip;
    }
    for (const Rule& r : k_rules) {
        if (r.want == w && r.object == object) {
            return r.ctx;
        }
    }
    return Ctx::root;
}

bool is_list(Ctx c) {
    return c == Ctx::rs_list || c == Ctx::ss_list || c == Ctx::span_list || c == Ctx::event_list ||
           c == Ctx::kv_list || c == Ctx::array_items;
}

struct Frame {
    explicit Frame(Ctx c) : ctx(c) {}
    Ctx ctx;
    uint64_t seen = 0;               // the known keys met in this object
    size_t count = 0;                // lists: elements met
    size_t depth = 0;                // AnyValue nesting (kv_list down to any)
    size_t first_span = 0;           // rs, ss: their first span in the output
    AttributeMap* target = nullptr;  // kv_list, kv: where the pairs go
    json* slot = nullptr;            // any, array_value, array_items, kvlist_value: the value
    std::string key;                 // kv
    bool has_key = false;            // kv
    json value;                      // kv: the pair's value
    AttributeMap inner;              // kvlist_value: its pairs
    std::shared_ptr<AttributeMap> resource;  // rs
    std::string scope_name;                  // ss
    int typed = 0;                           // any: typed members met
    int skip_depth = 0;                      // skip: containers open inside it
    uint64_t time = 0;                       // event
    uint64_t flags = 0;                      // span
    bool has_flags = false;                  // span
};

enum class T { null_v, boolean, integer, unsigned_v, floating, string };
struct Val {
    T t = T::null_v;
    bool b = false;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    const std::string* s = nullptr;
};

bool u64_of(const Val& v, uint64_t& out) {
    switch (v.t) {
        case T::unsigned_v:
            out = v.u;
            return true;
        case T::integer:
            if (v.i < 0) {
                return false;
            }
            out = static_cast<uint64_t>(v.i);
            return true;
        case T::floating:
            return otlp_whole_double_u64(v.d, out);
        case T::string:
            return otlp_decimal_u64(*v.s, out);
        default:
            return false;
    }
}

// An id as the tree decoder reads it: empty means absent (missing when
// required); a parent of all zeros means none.
bool finish_id(std::string& id, size_t bytes, bool required) {
    if (id.empty()) {
        return !required;
    }
    auto r = normalize_otlp_id(id, bytes);
    if (!r.ok()) {
        if (!required && r.status().message() == "all zero") {
            id.clear();
            return true;
        }
        return false;
    }
    id = std::move(r).value();
    return true;
}

class StreamDecoder {
public:
    StreamDecoder(const OtlpLimits& limits, std::vector<OtlpSpan>& out)
        : m_limits(limits), m_out(out) {}

    bool done() const { return m_frames.empty() && m_started; }

    // nlohmann's json_sax interface, as fast_json_sax calls it.
    bool null() { return scalar(Val{}); }
    bool boolean(bool b) {
        Val v;
        v.t = T::boolean;
        v.b = b;
        return scalar(v);
    }
    bool number_integer(int64_t i) {
        Val v;
        v.t = T::integer;
        v.i = i;
        return scalar(v);
    }
    bool number_unsigned(uint64_t u) {
        Val v;
        v.t = T::unsigned_v;
        v.u = u;
        return scalar(v);
    }
    bool number_float(double d, const std::string&) {
        Val v;
        v.t = T::floating;
        v.d = d;
        return scalar(v);
    }
    bool string(std::string& s) {
        Val v;
        v.t = T::string;
        v.s = &s;
        return scalar(v);
    }

    bool start_object(size_t) {
        if (in_skip()) {
            ++m_frames.back().skip_depth;
            return true;
        }
        if (m_frames.empty()) {
            if (m_started) {
                return false;
            }
            m_started = true;
            m_frames.emplace_back(Ctx::root);
            return true;
        }
        Frame& top = m_frames.back();
        const Want w = m_want;
        m_want = Want::none;
        if (w == Want::none) {
            return element_object(top);
        }
        if (const Ctx c = plain_frame(w, true); c != Ctx::root) {
            m_frames.emplace_back(c);
            return true;
        }
        switch (w) {
            case Want::kv_value:
                return push_any(&top.value, top.depth);
            case Want::array_value:
            case Want::kvlist_value: {
                if (++top.typed > 1) {
                    return false;
                }
                const bool array = w == Want::array_value;
                *top.slot = array ? json::array() : json::object();
                Frame& f = m_frames.emplace_back(array ? Ctx::array_value : Ctx::kvlist_value);
                f.slot = top.slot;
                f.depth = top.depth;
                return true;
            }
            default:
                return false;
        }
    }

    bool start_array(size_t) {
        if (in_skip()) {
            ++m_frames.back().skip_depth;
            return true;
        }
        if (m_frames.empty()) {
            return false;
        }
        Frame& top = m_frames.back();
        const Want w = m_want;
        m_want = Want::none;
        if (const Ctx c = plain_frame(w, false); c != Ctx::root) {
            m_frames.emplace_back(c);
            return true;
        }
        switch (w) {
            case Want::span_attrs:
                return push_kv_list(&m_out.back().attributes, 0);
            case Want::event_attrs:
                return push_kv_list(&m_out.back().events.back().attributes, 0);
            case Want::resource_attrs:
                // The rs frame is below the resource frame.
                return push_kv_list(m_frames[m_frames.size() - 2].resource.get(), 0);
            case Want::array_items: {
                Frame& f = m_frames.emplace_back(Ctx::array_items);
                f.slot = top.slot;
                f.depth = top.depth;
                return true;
            }
            case Want::kvlist_items:
                return push_kv_list(&top.inner, top.depth + 1);
            default:
                return false;  // a list where an object or a scalar belongs
        }
    }

    bool key(std::string& k) {
        if (in_skip()) {
            return true;
        }
        Frame& top = m_frames.back();
        if (is_list(top.ctx)) {
            return false;
        }
        Want w = Want::skip;  // a key this decoder does not know: its value is read over
        for (const KeyRule& r : k_keys) {
            if (r.ctx == top.ctx && k == r.key) {
                if (r.want == Want::none) {
                    return false;  // a form the tree decoder reads and this one does not
                }
                w = r.want;
                break;
            }
        }
        if (w != Want::skip) {
            const uint64_t bit = uint64_t{1} << static_cast<unsigned>(w);
            if ((top.seen & bit) != 0) {
                return false;  // twice in one object: the tree keeps the last
            }
            top.seen |= bit;
        }
        m_want = w;
        return true;
    }

    bool end_object() { return end(); }
    bool end_array() { return end(); }

    template <typename Exception>
    bool parse_error(size_t, const std::string&, const Exception&) {
        return false;
    }

private:
    bool in_skip() const { return !m_frames.empty() && m_frames.back().ctx == Ctx::skip; }

    bool push_kv_list(AttributeMap* target, size_t depth) {
        Frame& f = m_frames.emplace_back(Ctx::kv_list);
        f.target = target;
        f.depth = depth;
        return true;
    }

    bool push_any(json* slot, size_t depth) {
        if (depth > m_limits.max_value_depth) {
            return false;
        }
        Frame& f = m_frames.emplace_back(Ctx::any);
        f.slot = slot;
        f.depth = depth;
        return true;
    }

    // An object as an element of the list `list`.
    bool element_object(Frame& list) {
        switch (list.ctx) {
            case Ctx::rs_list: {
                Frame& f = m_frames.emplace_back(Ctx::rs);
                f.resource = std::make_shared<AttributeMap>();
                f.first_span = m_out.size();
                return true;
            }
            case Ctx::ss_list:
                m_frames.emplace_back(Ctx::ss).first_span = m_out.size();
                return true;
            case Ctx::span_list:
                if (m_out.size() >= m_limits.max_spans) {
                    return false;
                }
                m_out.emplace_back();
                m_frames.emplace_back(Ctx::span);
                return true;
            case Ctx::event_list:
                if (++list.count > m_limits.max_events) {
                    return false;
                }
                m_out.back().events.emplace_back();
                m_frames.emplace_back(Ctx::event);
                return true;
            case Ctx::kv_list: {
                if (++list.count > m_limits.max_attributes) {
                    return false;
                }
                AttributeMap* target = list.target;
                const size_t depth = list.depth;
                Frame& f = m_frames.emplace_back(Ctx::kv);
                f.target = target;
                f.depth = depth;
                return true;
            }
            case Ctx::array_items: {
                list.slot->push_back(json());
                return push_any(&list.slot->back(), list.depth + 1);
            }
            default:
                return false;
        }
    }

    bool scalar(const Val& v) {
        if (m_frames.empty()) {
            return false;  // the request is not an object
        }
        if (in_skip()) {
            return true;
        }
        Frame& top = m_frames.back();
        const Want w = m_want;
        m_want = Want::none;
        if (w == Want::skip) {
            return true;
        }
        if (w == Want::none) {
            return false;  // a scalar in a list of objects
        }
        if (v.t == T::null_v) {
            return true;  // proto3 JSON: null is the default, as if absent
        }
        if (typed_member(w) && ++top.typed > 1) {
            return false;  // the tree decoder picks one by its own order
        }
        OtlpSpan* span = m_out.empty() ? nullptr : &m_out.back();
        if (std::string* field = text_field(w, span)) {
            if (v.t != T::string) {
                return false;
            }
            *field = *v.s;  // ids are checked and normalised when the span ends
            return true;
        }
        switch (w) {
            case Want::flags:
                top.has_flags = true;
                return u64_of(v, top.flags);
            case Want::kind:
            case Want::status_code: {
                int e = 0;
                if (w == Want::kind) {
                    if (!enum_value(v, k_otlp_span_kind_names, e)) {
                        return false;
                    }
                    span->kind = static_cast<OtlpSpanKind>(e);
                } else {
                    if (!enum_value(v, k_otlp_status_code_names, e)) {
                        return false;
                    }
                    span->status_code = static_cast<OtlpStatusCode>(e);
                }
                return true;
            }
            case Want::start:
                return u64_of(v, span->start_unix_nano);
            case Want::end:
                return u64_of(v, span->end_unix_nano);
            case Want::event_time:
                return u64_of(v, top.time);
            case Want::scope_name:
                if (v.t == T::string) {
                    m_frames[m_frames.size() - 2].scope_name = *v.s;
                }
                return true;  // not a string: ignored, as by the tree decoder
            case Want::scope:
                return true;  // not an object: ignored, as by the tree decoder
            case Want::kv_key:
                if (v.t != T::string) {
                    return false;
                }
                top.key = *v.s;
                top.has_key = true;
                return true;
            case Want::string_value:
            case Want::bytes_value:
                if (v.t != T::string) {
                    return false;
                }
                *top.slot = *v.s;
                return true;
            case Want::bool_value:
                if (v.t != T::boolean) {
                    return false;
                }
                *top.slot = v.b;
                return true;
            case Want::int_value:
                return int_value(v, *top.slot);
            case Want::double_value:
                if (v.t == T::unsigned_v) {
                    *top.slot = static_cast<double>(v.u);
                } else if (v.t == T::integer) {
                    *top.slot = static_cast<double>(v.i);
                } else if (v.t == T::floating) {
                    *top.slot = v.d;
                } else {
                    return false;  // "NaN", "Infinity", numbers as text: the tree decoder's
                }
                return true;
            default:
                return false;  // a scalar where an object or a list belongs
        }
    }

    // The span's text field a string value of `w` goes to, or nullptr.
    static std::string* text_field(Want w, OtlpSpan* span) {
        switch (w) {
            case Want::trace_id:
                return &span->trace_id;
            case Want::span_id:
                return &span->span_id;
            case Want::parent_id:
                return &span->parent_span_id;
            case Want::name:
                return &span->name;
            case Want::status_message:
                return &span->status_message;
            case Want::event_name:
                return &span->events.back().name;
            default:
                return nullptr;
        }
    }

    // An enum as a non-negative integer or one of its proto names (a float
    // is left to the tree decoder).
    template <size_t N>
    static bool enum_value(const Val& v, const std::array<const char*, N>& names, int& out) {
        if (v.t == T::unsigned_v && v.u < N) {
            out = static_cast<int>(v.u);
            return true;
        }
        if (v.t == T::string) {
            for (size_t i = 0; i < N; ++i) {
                if (*v.s == names[i]) {
                    out = static_cast<int>(i);
                    return true;
                }
            }
        }
        return false;
    }

    static bool int_value(const Val& v, json& out) {
        constexpr uint64_t k_max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        uint64_t u = 0;
        int64_t n = 0;
        switch (v.t) {
            case T::integer:
                out = v.i;
                return true;
            case T::unsigned_v:
            case T::floating:
                if (!u64_of(v, u) || u > k_max) {
                    return false;
                }
                out = static_cast<int64_t>(u);
                return true;
            case T::string:
                if (!otlp_decimal_i64(*v.s, n)) {
                    return false;
                }
                out = n;
                return true;
            default:
                return false;
        }
    }

    bool end() {
        Frame& top = m_frames.back();
        if (top.ctx == Ctx::skip && top.skip_depth > 0) {
            --top.skip_depth;
            return true;
        }
        switch (top.ctx) {
            case Ctx::rs:
                for (size_t i = top.first_span; i < m_out.size(); ++i) {
                    m_out[i].resource_attributes = top.resource;
                }
                break;
            case Ctx::ss:
                for (size_t i = top.first_span; i < m_out.size(); ++i) {
                    m_out[i].scope_name = top.scope_name;
                }
                break;
            case Ctx::span:
                if (!finish_span(top)) {
                    return false;
                }
                break;
            case Ctx::event:
                m_out.back().events.back().time_unix_ms = static_cast<int64_t>(top.time / 1000000);
                break;
            case Ctx::kv:
                if (!top.has_key || top.key.size() > m_limits.max_key_bytes) {
                    return false;
                }
                (*top.target)[std::move(top.key)] = std::move(top.value);  // a later duplicate wins
                break;
            case Ctx::kvlist_value:
                for (auto& [k, x] : top.inner) {
                    (*top.slot)[k] = std::move(x);
                }
                break;
            default:
                break;
        }
        m_frames.pop_back();
        m_want = Want::none;
        return true;
    }

    bool finish_span(const Frame& f) {
        OtlpSpan& s = m_out.back();
        if (!finish_id(s.trace_id, 16, true) || !finish_id(s.span_id, 8, true) ||
            !finish_id(s.parent_span_id, 8, false)) {
            return false;
        }
        if (f.has_flags) {
            s.parent_is_remote = otlp_parent_is_remote(s, f.flags);
        }
        return finish_otlp_span_times(s, {}).ok();
    }

    const OtlpLimits& m_limits;
    std::vector<OtlpSpan>& m_out;
    // A deque: a frame's address (kept by its children) never changes while
    // frames are pushed above it.
    std::deque<Frame> m_frames;
    Want m_want = Want::none;
    bool m_started = false;
};

}  // namespace

bool decode_otlp_json_stream(std::string_view body, const OtlpLimits& limits,
                             std::vector<OtlpSpan>& out) {
    out.clear();
    StreamDecoder decoder(limits, out);
    return fast_json_sax(body, decoder) == FastJsonResult::accepted && decoder.done();
}

}  // namespace assay
