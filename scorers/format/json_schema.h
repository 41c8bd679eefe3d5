#pragma once
// JSON Schema (draft-07) for the format scorer, over valijson: a schema
// compiled once at startup (bad regexes found then, not at validation
// time), and validation of a document with the guards valijson's recursion
// and libstdc++'s std::regex need, reporting the first failing path.
// Immutable once compiled; validate() is thread-safe (one valijson
// Validator per thread).

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace valijson {
class Schema;
}

namespace assay::format {

class JsonSchema {
public:
    // Compiles `schema_json` (a mapping, or true/false). Remote $refs are
    // not fetched. invalid_argument for another type, an invalid regex in
    // `pattern` / `patternProperties` (naming its path), or a schema valijson
    // refuses.
    static Result<std::shared_ptr<const JsonSchema>> compile(const nlohmann::json& schema_json);

    // Validates `doc_text` (JSON the caller has already scanned as valid).
    // Empty `problem` when the document conforms; else "schema mismatch at
    // /path: reason (found …) [N errors in all]". limit_exceeded when the
    // schema uses regex keywords and a string or key is longer than
    // k_max_regex_subject_bytes; internal when validation itself fails.
    Status validate(std::string_view doc_text, std::string& problem) const;

private:
    JsonSchema() = default;
    std::shared_ptr<const valijson::Schema> m_schema;
    bool m_uses_regex = false;  // pattern / patternProperties / format present
};

// libstdc++'s std::regex (valijson's engine for "pattern",
// "patternProperties" and "format") recurses once per character matched and
// overflows an 8 MiB stack near 27000 characters. When the schema uses a
// regex, longer strings (values or keys) are refused instead.
inline constexpr size_t k_max_regex_subject_bytes = 4096;

}  // namespace assay::format
