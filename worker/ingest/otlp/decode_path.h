#pragma once
// DecodePath: where a field is in an export request, as the decoders' errors
// name it ("resourceSpans[0].scopeSpans[1].spans[3].attributes[2].value"): a
// chain of parts on the stack, spelled out only when an error names it, so
// decoding a valid request builds no path string. Used by both encodings'
// decoders (mapper.cpp for JSON, protobuf.cpp).
//
// A value that points at its parent and at `field`: both must outlive it (a
// string literal, a parent further up the stack). str() is pure.

#include <cstddef>
#include <string>

namespace assay {

struct DecodePath {
    const DecodePath* parent = nullptr;
    const char* field = "";  // appended as it is (".attributes", "resourceSpans")
    long long index = -1;    // then "[index]" when >= 0

    DecodePath(const DecodePath* p, const char* f) : parent(p), field(f) {}
    DecodePath(const DecodePath* p, const char* f, int i) : parent(p), field(f), index(i) {}
    DecodePath(const DecodePath* p, const char* f, size_t i)
        : parent(p), field(f), index(static_cast<long long>(i)) {}

    std::string str() const {
        std::string s = parent != nullptr ? parent->str() : std::string();
        s += field;
        if (index >= 0) {
            s += '[';
            s += std::to_string(index);
            s += ']';
        }
        return s;
    }
};

}  // namespace assay
