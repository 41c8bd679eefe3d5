// The format scorer: is the output valid JSON, does it conform to a JSON
// Schema (draft-07), does it match a regular expression. Config keys and
// verdicts are documented in README.md beside this file.

#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif

#include <re2/re2.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "core/text.h"
#include "format/json_text.h"

namespace assay {

namespace {

using json = nlohmann::json;

// Schema validation recurses (in valijson) once per level of the document
// that the schema descends into; deeper documents are refused rather than
// risk the stack. Plain JSON validity has no such limit.
constexpr size_t k_max_schema_depth = 256;
// libstdc++'s std::regex (valijson's engine for "pattern",
// "patternProperties" and "format") recurses once per character matched and
// overflows an 8 MiB stack near 27000 characters. When the schema uses a
// regex, longer strings (values or keys) are refused instead.
constexpr size_t k_max_regex_subject_bytes = 4096;
constexpr size_t k_excerpt_bytes = 120;
constexpr const char* k_label_valid = "valid";
constexpr const char* k_label_invalid_json = "invalid_json";
constexpr const char* k_label_schema_mismatch = "schema_mismatch";
constexpr const char* k_label_regex_mismatch = "regex_mismatch";

enum class RegexMode { full, contains };

struct Options {
    bool check_json = false;
    bool allow_fenced = true;
    std::shared_ptr<const valijson::Schema> schema;  // null: no schema check
    std::string schema_source;                       // "schema" or the file path
    bool schema_uses_regex = false;                  // pattern/patternProperties/format present
    std::unique_ptr<RE2> regex;                      // null: no regex check
    RegexMode regex_mode = RegexMode::full;
    bool when_all = true;
    std::vector<std::string> when_formats;  // lower-cased; used when !when_all
};

std::string quote_list(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "'" : ", '") + items[i] + "'";
    }
    return out;
}

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

class FormatScorer final : public Scorer {
public:
    explicit FormatScorer(Options options) : m_o(std::move(options)) {}

    Result<Score> score(const Trace& trace) const override {
        ASSAY_RETURN_IF_ERROR(check_applicable(trace));
        std::vector<std::string> notes;     // what passed
        std::vector<std::string> failures;  // what failed
        const char* label = k_label_valid;
        auto fail = [&](const char* l, std::string why) {
            if (failures.empty()) {
                label = l;
            }
            failures.push_back(std::move(why));
        };

        if (m_o.check_json) {
            std::string_view doc_text;
            JsonVerdict v = check_json(trace.output, doc_text);
            if (!v.ok) {
                fail(k_label_invalid_json, std::move(v.explanation));
            } else {
                notes.push_back(std::move(v.explanation));
                if (m_o.schema) {
                    if (v.max_depth > k_max_schema_depth) {
                        return Status::limit_exceeded(
                            "JSON nesting depth " + std::to_string(v.max_depth) + " exceeds " +
                            std::to_string(k_max_schema_depth) + "; schema validation refused");
                    }
                    std::string problem;
                    Status s = check_schema(doc_text, problem);
                    if (!s.ok()) {
                        return s;
                    }
                    if (!problem.empty()) {
                        fail(k_label_schema_mismatch, std::move(problem));
                    } else {
                        notes.push_back("conforms to the schema");
                    }
                }
            }
        }
        if (m_o.regex) {
            std::string problem = check_regex(trace.output);
            if (!problem.empty()) {
                fail(k_label_regex_mismatch, std::move(problem));
            } else {
                notes.push_back(m_o.regex_mode == RegexMode::full
                                    ? "output fully matches the regex"
                                    : "output contains a regex match");
            }
        }

        Score out;
        out.passed = failures.empty();
        out.value = failures.empty() ? 1.0 : 0.0;
        out.label = label;
        const auto& parts = failures.empty() ? notes : failures;
        for (size_t i = 0; i < parts.size(); ++i) {
            out.explanation += (i == 0 ? "" : "; ") + parts[i];
        }
        return out;
    }

private:
    struct JsonVerdict {
        bool ok = false;
        size_t max_depth = 0;
        std::string explanation;
    };

    Status check_applicable(const Trace& trace) const {
        if (m_o.when_all) {
            return Status::ok_status();
        }
        const std::string got = ascii_lower(trim(trace.metadata.expected_format));
        for (const std::string& f : m_o.when_formats) {
            if (got == f) {
                return Status::ok_status();
            }
        }
        if (got.empty()) {
            return Status::not_applicable(
                "metadata.expected_format is not set; this scorer applies to " +
                quote_list(m_o.when_formats));
        }
        return Status::not_applicable("metadata.expected_format is '" +
                                      format::safe_excerpt(trace.metadata.expected_format, 40) +
                                      "'; this scorer applies to " + quote_list(m_o.when_formats));
    }

    // Decides JSON validity; on success points `doc_text` at the JSON text
    // (the whole output, or a fenced block's content).
    JsonVerdict check_json(const std::string& output, std::string_view& doc_text) const {
        JsonVerdict v;
        if (trim(output).empty()) {
            v.explanation =
                output.empty() ? "output is empty" : "output is empty (whitespace only)";
            return v;
        }
        format::JsonScan scan = format::scan_json(output);
        if (scan.valid) {
            v.ok = true;
            v.max_depth = scan.max_depth;
            v.explanation = std::string("output is a valid JSON ") + scan.top_type;
            doc_text = output;
            return v;
        }
        if (m_o.allow_fenced) {
            if (auto fence = format::find_json_fence(output)) {
                const std::string where =
                    "```" + fence->info + " fenced block at line " + std::to_string(fence->line);
                format::JsonScan inner = format::scan_json(fence->content);
                if (!inner.valid) {
                    v.explanation = where + " is not valid JSON: " +
                                    format::safe_excerpt(inner.error, k_excerpt_bytes);
                    return v;
                }
                const std::string_view all(output);
                const bool prose = !trim(all.substr(0, fence->open_offset)).empty() ||
                                   !trim(all.substr(fence->close_end)).empty();
                v.ok = true;
                v.max_depth = inner.max_depth;
                v.explanation = std::string("valid JSON ") + inner.top_type + " inside a " + where;
                if (prose) {
                    v.explanation += ", with surrounding prose";
                }
                if (!fence->closed) {
                    v.explanation += " (closing fence missing)";
                }
                if (fence->candidates > 1) {
                    v.explanation +=
                        " (first of " + std::to_string(fence->candidates) + " such blocks)";
                }
                doc_text = fence->content;
                return v;
            }
        }
        if (auto embedded = format::find_json_in_prose(output)) {
            v.explanation = std::string("JSON ") + embedded->type + " found at offset " +
                            std::to_string(embedded->offset) +
                            " inside prose; expected the whole output to be JSON";
            if (!m_o.allow_fenced) {
                v.explanation += " (fenced blocks not allowed: allow_fenced is false)";
            }
            return v;
        }
        v.explanation = "not valid JSON: " + format::safe_excerpt(scan.error, k_excerpt_bytes);
        return v;
    }

    // Refuses documents with a string or key longer than std::regex can
    // match without risking the stack (see k_max_regex_subject_bytes).
    static Status check_regex_subjects(const json& doc) {
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

    // Empty `problem` when the document conforms; else the first failing
    // path and its reason. A non-OK Status when validation itself failed.
    Status check_schema(std::string_view doc_text, std::string& problem) const {
        json doc =
            json::parse(doc_text.begin(), doc_text.end(), nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded()) {
            return Status::internal("JSON accepted by the scanner but rejected by the parser");
        }
        if (m_o.schema_uses_regex) {
            ASSAY_RETURN_IF_ERROR(check_regex_subjects(doc));
        }
        // valijson's Validator caches compiled std::regex objects by pattern
        // text; it is not thread-safe, so each thread keeps its own. The
        // cache depends on the pattern text only, so sharing one Validator
        // across scorers within a thread is correct.
        thread_local valijson::Validator t_validator(valijson::Validator::kStrongTypes);
        try {
            valijson::adapters::NlohmannJsonAdapter target(doc);
            if (t_validator.validate(*m_o.schema, target, nullptr)) {
                return Status::ok_status();
            }
            valijson::ValidationResults results;
            t_validator.validate(*m_o.schema, target, &results);
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

    std::string check_regex(const std::string& output) const {
        const std::string_view subject = trim(output);
        const re2::StringPiece sp(subject.data(), subject.size());
        if (m_o.regex_mode == RegexMode::full) {
            if (RE2::FullMatch(sp, *m_o.regex)) {
                return "";
            }
            std::string why = "output (" + std::to_string(count_code_points(subject)) +
                              " chars, trimmed) does not fully match the regex /" +
                              excerpt(m_o.regex->pattern(), 60) + "/";
            re2::StringPiece m;
            if (m_o.regex->Match(sp, 0, sp.size(), RE2::UNANCHORED, &m, 1)) {
                why += "; a partial match '" +
                       format::safe_excerpt(std::string_view(m.data(), m.size()), 40) +
                       "' exists at offset " + std::to_string(m.data() - sp.data());
            }
            return why;
        }
        if (RE2::PartialMatch(sp, *m_o.regex)) {
            return "";
        }
        return "output (" + std::to_string(count_code_points(subject)) +
               " chars, trimmed) contains no match for the regex /" +
               excerpt(m_o.regex->pattern(), 60) + "/";
    }

    Options m_o;
};

// ---- factory ------------------------------------------------------------------

// Records a config error against `key` and returns the block's first error.
Status config_error(ConfigBlock& block, const std::string& key, const std::string& problem) {
    block.fail(key, problem);
    return block.finish();
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

// Compiles a draft-07 schema once. Remote $refs are not fetched.
Result<std::shared_ptr<const valijson::Schema>> compile_schema(const json& schema_json,
                                                               bool& uses_regex) {
    if (!schema_json.is_object() && !schema_json.is_boolean()) {
        return Status::invalid_argument(
            std::string("a schema must be a mapping (or true/false), got ") +
            schema_json.type_name());
    }
    std::string bad_regex = check_schema_regexes(schema_json, uses_regex);
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
    return std::shared_ptr<const valijson::Schema>(std::move(schema));
}

Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::io_error("cannot read '" + path + "'");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::unique_ptr<Scorer>> make_format(ConfigBlock& block) {
    Options o;
    const std::optional<bool> json_key = block.get_bool("json");
    const std::optional<bool> allow_fenced = block.get_bool("allow_fenced");
    const std::optional<YAML::Node> schema_node = block.get_node("schema");
    const std::optional<std::string> schema_file = block.get_path("schema_file");
    const std::optional<std::string> regex = block.get_string("regex");
    const std::optional<std::string> regex_mode = block.get_string("regex_mode");
    const std::optional<YAML::Node> when = block.get_node("when");
    // A getter that returned nothing for a present key recorded a type
    // error; finish() reports it (errors come before unknown keys).
    if ((block.has("json") && !json_key) || (block.has("allow_fenced") && !allow_fenced) ||
        (block.has("schema_file") && !schema_file) || (block.has("regex") && !regex) ||
        (block.has("regex_mode") && !regex_mode)) {
        return block.finish();
    }

    // -- schema ------------------------------------------------------------
    if (schema_node && schema_file) {
        return config_error(block, "schema_file",
                            "give either 'schema' or 'schema_file', not both");
    }
    std::optional<json> schema_json;
    if (schema_node) {
        json j = yaml_to_json(*schema_node);
        if (j.is_string()) {  // JSON text given as a string
            j = json::parse(j.get<std::string>(), nullptr, false);
            if (j.is_discarded()) {
                return config_error(block, "schema",
                                    "expected a mapping, or a string holding JSON text");
            }
        }
        schema_json = std::move(j);
        o.schema_source = "schema";
    } else if (schema_file) {
        auto bytes = read_file(*schema_file);
        if (!bytes.ok()) {
            return config_error(block, "schema_file", bytes.status().message());
        }
        block.add_version_material(*bytes);
        if (ends_with(*schema_file, ".yaml") || ends_with(*schema_file, ".yml")) {
            try {
                schema_json = yaml_to_json(YAML::Load(*bytes));
            } catch (const std::exception& e) {
                return config_error(block, "schema_file",
                                    "'" + *schema_file + "' is not valid YAML: " + e.what());
            }
        } else {
            json j = json::parse(*bytes, nullptr, false);
            if (j.is_discarded()) {
                return config_error(block, "schema_file",
                                    "'" + *schema_file + "' is not valid JSON");
            }
            schema_json = std::move(j);
        }
        o.schema_source = *schema_file;
    }
    if (schema_json) {
        auto compiled = compile_schema(*schema_json, o.schema_uses_regex);
        if (!compiled.ok()) {
            return config_error(block, schema_node ? "schema" : "schema_file",
                                compiled.status().message());
        }
        o.schema = std::move(compiled).value();
    }

    // -- json ----------------------------------------------------------------
    if (json_key.has_value() && !*json_key && o.schema) {
        return config_error(block, "json", "a schema implies a JSON check; remove 'json: false'");
    }
    o.check_json = json_key.value_or(false) || o.schema != nullptr;
    if (allow_fenced.has_value() && !o.check_json) {
        return config_error(block, "allow_fenced", "only meaningful with 'json: true' or a schema");
    }
    o.allow_fenced = allow_fenced.value_or(true);

    // -- regex ---------------------------------------------------------------
    if (regex_mode && !regex) {
        return config_error(block, "regex_mode", "only meaningful with 'regex'");
    }
    if (regex) {
        RE2::Options ro;
        ro.set_log_errors(false);
        auto re = std::make_unique<RE2>(*regex, ro);
        if (!re->ok()) {
            return config_error(block, "regex", "invalid pattern: " + re->error());
        }
        o.regex = std::move(re);
        const std::string mode = ascii_lower(regex_mode.value_or("full"));
        if (mode == "full") {
            o.regex_mode = RegexMode::full;
        } else if (mode == "contains") {
            o.regex_mode = RegexMode::contains;
        } else {
            return config_error(block, "regex_mode",
                                "expected 'full' or 'contains', got '" + *regex_mode + "'");
        }
    }

    if (!o.check_json && !o.regex) {
        return config_error(
            block, "json",
            "configure at least one check: 'json: true', 'schema', 'schema_file' or 'regex'");
    }

    // -- when ----------------------------------------------------------------
    if (!when) {
        o.when_all = !o.check_json;
        if (o.check_json) {
            o.when_formats = {"json"};
        }
    } else if (when->IsScalar()) {
        if (ascii_lower(when->Scalar()) != "all") {
            return config_error(block, "when",
                                "expected 'all' or a mapping like {expected_format: json}, got '" +
                                    when->Scalar() + "'");
        }
        o.when_all = true;
    } else if (when->IsMap()) {
        o.when_all = false;
        for (const auto& kv : *when) {
            const std::string k = kv.first.as<std::string>();
            if (k != "expected_format") {
                return config_error(block, "when",
                                    "unknown condition '" + k + "' (supported: expected_format)");
            }
            const YAML::Node& v = kv.second;
            if (v.IsScalar()) {
                o.when_formats.push_back(ascii_lower(trim(v.Scalar())));
            } else if (v.IsSequence() && v.size() > 0) {
                for (const auto& item : v) {
                    if (!item.IsScalar()) {
                        return config_error(
                            block, "when", "expected_format must be a string or a list of strings");
                    }
                    o.when_formats.push_back(ascii_lower(trim(item.Scalar())));
                }
            } else {
                return config_error(
                    block, "when",
                    "expected_format must be a string or a non-empty list of strings");
            }
        }
        if (o.when_formats.empty()) {
            return config_error(
                block, "when",
                "an empty mapping selects nothing; use 'all' or {expected_format: ...}");
        }
    } else {
        return config_error(block, "when",
                            "expected 'all' or a mapping like {expected_format: json}");
    }

    return std::unique_ptr<Scorer>(std::make_unique<FormatScorer>(std::move(o)));
}

ScorerType make_format_type() {
    ScorerType t;
    t.type = "format";
    t.summary =
        "JSON validity, JSON Schema (draft-07) conformance and/or a regex match of the output";
    t.impl_version = 1;
    t.keys = {
        {"json", "bool",
         "check that the output is one JSON value (default false; implied by schema/schema_file)"},
        {"allow_fenced", "bool",
         "also accept JSON inside the first ```json (or plain ```) fenced block, prose around it "
         "allowed "
         "(default true)"},
        {"schema", "mapping",
         "inline JSON Schema draft-07 the JSON must conform to (default none)"},
        {"schema_file", "string",
         "path (relative to the config file) of a draft-07 schema, JSON or .yaml/.yml; its bytes "
         "are part of "
         "the scorer version (default none)"},
        {"regex", "string",
         "RE2 pattern matched against the output, trimmed of surrounding whitespace (default "
         "none)"},
        {"regex_mode", "string",
         "'full' (the whole trimmed output must match) or 'contains' (default full)"},
        {"when", "mapping",
         "'all', or {expected_format: json | [json, ...]} to score only traces whose "
         "metadata.expected_format is "
         "one of these, case-insensitively (default {expected_format: json} when json/schema is "
         "set, else all)"},
    };
    t.make = &make_format;
    return t;
}

}  // namespace

ASSAY_REGISTER_SCORER(make_format_type());

}  // namespace assay
