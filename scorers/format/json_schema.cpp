#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif

#include "format/json_schema.h"

#include <regex>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "core/text.h"

namespace assay::format {

namespace {

using json = nlohmann::json;

// valijson context ["<root>", "[items]", "[2]"] -> "/items/2" (RFC 6901).
std::string to_pointer(const std::vector<std::string>& context) {
    std::string out;
    for (const std::string& part : context) {
        if (part == "<root>") {
            continue;
        }
        std::string_view name = part;
        if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
            name = name.substr(1, name.size() - 2);
        }
        out += '/';
        for (char c : name) {
            if (c == '~') {
                out += "~0";
            } else if (c == '/') {
                out += "~1";
            } else {
                out += c;
            }
        }
    }
    return out;
}

// A short description of the value at `pointer`, or "" when unresolvable.
std::string describe_value(const json& doc, const std::string& pointer) {
    try {
        const json& v = doc.at(json::json_pointer(pointer));
        if (v.is_object()) {
            return "an object with " + std::to_string(v.size()) + " member(s)";
        }
        if (v.is_array()) {
            return "an array of " + std::to_string(v.size()) + " item(s)";
        }
        return excerpt(v.dump(-1, ' ', false, json::error_handler_t::replace), 60);
    } catch (const std::exception&) {
        return "";
    }
}

// Refuses documents with a string or key longer than std::regex can
// match without risking the stack (see k_max_regex_subject_bytes).
Status check_regex_subjects(const json& doc) {
    std::vector<std::pair<const json*, std::string>> stack{{&doc, ""}};
    auto too_long = [](const std::string& path, size_t n, const char* what) {
        return Status::limit_exceeded(
            std::string("the ") + what + " at " + (path.empty() ? "/" : path) + " is " +
            std::to_string(n) + " bytes; with regex keywords (pattern, " +
            "patternProperties, format) in the schema, strings are limited to " +
            std::to_string(k_max_regex_subject_bytes) + " bytes");
    };
    while (!stack.empty()) {
        auto [node, path] = stack.back();
        stack.pop_back();
        if (node->is_string()) {
            const size_t n = node->get_ref<const std::string&>().size();
            if (n > k_max_regex_subject_bytes) {
                return too_long(path, n, "string");
            }
        } else if (node->is_object()) {
            for (const auto& item : node->items()) {
                if (item.key().size() > k_max_regex_subject_bytes) {
                    return too_long(path, item.key().size(), "object key");
                }
                if (item.value().is_string() || item.value().is_structured()) {
                    stack.emplace_back(&item.value(), path + "/" + item.key());
                }
            }
        } else if (node->is_array()) {
            for (size_t i = 0; i < node->size(); ++i) {
                const json& v = (*node)[i];
                if (v.is_string() || v.is_structured()) {
                    stack.emplace_back(&v, path + "/" + std::to_string(i));
                }
            }
        }
    }
    return Status::ok_status();
}

// std::regex (valijson's engine) would throw on a bad "pattern" at validation
// time; find those at startup instead. Returns "" or the problem, and sets
// `uses_regex` when any keyword validated with std::regex is present.
std::string check_schema_regexes(const json& schema, bool& uses_regex) {
    uses_regex = false;
    std::vector<std::pair<const json*, std::string>> stack{{&schema, ""}};
    while (!stack.empty()) {
        auto [node, path] = stack.back();
        stack.pop_back();
        if (node->is_object()) {
            auto fmt = node->find("format");
            if (fmt != node->end() && fmt->is_string()) {
                uses_regex = true;
            }
            auto pat = node->find("pattern");
            if (pat != node->end() && pat->is_string()) {
                uses_regex = true;
                try {
                    std::regex re(pat->get<std::string>());
                } catch (const std::regex_error& e) {
                    return "invalid regex in 'pattern' at " + (path.empty() ? "/" : path) + ": " +
                           e.what();
                }
            }
            auto pp = node->find("patternProperties");
            if (pp != node->end() && pp->is_object()) {
                uses_regex = uses_regex || !pp->empty();
                for (const auto& item : pp->items()) {
                    try {
                        std::regex re(item.key());
                    } catch (const std::regex_error& e) {
                        return "invalid regex '" + item.key() + "' in 'patternProperties' at " +
                               (path.empty() ? "/" : path) + ": " + e.what();
                    }
                }
            }
            for (const auto& item : node->items()) {
                const std::string& k = item.key();
                if (k == "enum" || k == "const" || k == "default" || k == "examples") {
                    continue;  // data, not subschemas
                }
                if (item.value().is_structured()) {
                    stack.emplace_back(&item.value(), path + "/" + k);
                }
            }
        } else if (node->is_array()) {
            for (size_t i = 0; i < node->size(); ++i) {
                if ((*node)[i].is_structured()) {
                    stack.emplace_back(&(*node)[i], path + "/" + std::to_string(i));
                }
            }
        }
    }
    return "";
}

}  // namespace

Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile(const json& schema_json) {
    if (!schema_json.is_object() && !schema_json.is_boolean()) {
        return Status::invalid_argument(
            std::string("a schema must be a mapping (or true/false), got ") +
            schema_json.type_name());
    }
    auto out = std::shared_ptr<JsonSchema>(new JsonSchema());
    std::string bad_regex = check_schema_regexes(schema_json, out->m_uses_regex);
    if (!bad_regex.empty()) {
        return Status::invalid_argument(bad_regex);
    }
    auto schema = std::make_shared<valijson::Schema>();
    try {
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter adapter(schema_json);
        parser.populateSchema(adapter, *schema);
    } catch (const std::exception& e) {
        return Status::invalid_argument(std::string("cannot load schema: ") + e.what());
    }
    out->m_schema = std::move(schema);
    return std::shared_ptr<const JsonSchema>(std::move(out));
}

Status JsonSchema::validate(std::string_view doc_text, std::string& problem) const {
    json doc = json::parse(doc_text.begin(), doc_text.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        return Status::internal("JSON accepted by the scanner but rejected by the parser");
    }
    if (m_uses_regex) {
        ASSAY_RETURN_IF_ERROR(check_regex_subjects(doc));
    }
    // valijson's Validator caches compiled std::regex objects by pattern
    // text; it is not thread-safe, so each thread keeps its own. The
    // cache depends on the pattern text only, so sharing one Validator
    // across scorers within a thread is correct.
    thread_local valijson::Validator t_validator(valijson::Validator::kStrongTypes);
    try {
        valijson::adapters::NlohmannJsonAdapter target(doc);
        if (t_validator.validate(*m_schema, target, nullptr)) {
            return Status::ok_status();
        }
        valijson::ValidationResults results;
        t_validator.validate(*m_schema, target, &results);
        if (results.numErrors() == 0) {
            problem = "schema mismatch (no detail reported)";
            return Status::ok_status();
        }
        const valijson::ValidationResults::Error& first = *results.begin();
        const std::string pointer = to_pointer(first.context);
        problem = "schema mismatch at " +
                  (pointer.empty() ? std::string("the document root") : pointer) + ": " +
                  first.description;
        const std::string found = describe_value(doc, pointer);
        if (!found.empty()) {
            problem += " (found " + found + ")";
        }
        if (results.numErrors() > 1) {
            problem += " [" + std::to_string(results.numErrors()) + " errors in all]";
        }
        return Status::ok_status();
    } catch (const std::exception& e) {
        return Status::internal(std::string("schema validation failed: ") + e.what());
    }
}

}  // namespace assay::format
