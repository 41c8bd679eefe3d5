// The format scorer: is the output valid JSON, does it conform to a JSON
// Schema (draft-07), does it match a regular expression. Config keys and
// verdicts are documented in README.md beside this file. The scanning is in
// json_text.h and the schema engine in json_schema.h; this file is the
// scorer itself and its factory, kept together as in every scorer folder
// (they share the options and labels), hence a little over ~400 lines.

#include <re2/re2.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "core/sha256.h"
#include "core/text.h"
#include "format/json_schema.h"
#include "format/json_text.h"

namespace assay {

namespace {

using json = nlohmann::json;

// Schema validation recurses (in valijson) once per level of the document
// that the schema descends into; deeper documents are refused rather than
// risk the stack. Plain JSON validity has no such limit.
constexpr size_t k_max_schema_depth = 256;
constexpr size_t k_excerpt_bytes = 120;
constexpr const char* k_label_valid = "valid";
constexpr const char* k_label_invalid_json = "invalid_json";
constexpr const char* k_label_schema_mismatch = "schema_mismatch";
constexpr const char* k_label_regex_mismatch = "regex_mismatch";

enum class RegexMode { full, contains };

struct Options {
    bool check_json = false;
    bool allow_fenced = true;
    std::shared_ptr<const format::JsonSchema> schema;  // null: no schema check
    std::string schema_source;                         // "schema" or the file path
    std::unique_ptr<RE2> regex;                        // null: no regex check
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
                    Status s = m_o.schema->validate(doc_text, problem);
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
        block.add_file_version("schema_file", sha256_hex(*bytes));
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
        auto compiled = format::JsonSchema::compile(*schema_json);
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
