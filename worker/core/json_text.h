#pragma once
// Compact JSON text of nlohmann values, written straight into a string: the
// same bytes as value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
// (keys in the object's order, UTF-8 kept as is, control characters escaped
// as nlohmann does, ill-formed UTF-8 replaced by U+FFFD), several times
// cheaper: strings that need no replacement are copied in runs instead of
// byte by byte through nlohmann's UTF-8 decoder, and no intermediate string
// is built per value. Text it cannot prove plain (ill-formed UTF-8, floats,
// binary values) goes through nlohmann's serializer, so the bytes never
// differ. Pure; thread-safe; never throws (but std::bad_alloc).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace assay {

// Appends the JSON string literal of `s` (quotes included).
void append_json_string(std::string& out, std::string_view s);
// Appends the compact JSON text of `v`.
void append_json(std::string& out, const nlohmann::json& v);
// The compact JSON text of `v`.
std::string json_text(const nlohmann::json& v);

}  // namespace assay
