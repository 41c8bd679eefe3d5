#include "structured_output.h"

#include <algorithm>
#include <regex>

namespace assay::testing {

namespace {

using nlohmann::json;

ParamRefusal refusal(const std::string& param, const std::string& message) {
    ParamRefusal r;
    r.param = param;
    r.message = message;
    return r;
}

// OpenAI's strict-mode rules, checked on every object of the schema.
std::optional<std::string> strict_problem(const json& node, const std::string& context) {
    if (!node.is_object()) {
        return std::nullopt;
    }
    const std::string type = node.contains("type") && node["type"].is_string()
                                 ? node["type"].get<std::string>()
                                 : std::string();
    if (type == "object") {
        if (!node.contains("additionalProperties") || node["additionalProperties"] != false) {
            return "In context=(" + context +
                   "), 'additionalProperties' is required to be supplied and to be false.";
        }
        const json props = node.value("properties", json::object());
        const json required = node.value("required", json::array());
        for (auto it = props.begin(); it != props.end(); ++it) {
            if (!required.is_array() ||
                std::find(required.begin(), required.end(), it.key()) == required.end()) {
                return "In context=(" + context +
                       "), 'required' is required to be supplied and to be an array including "
                       "every key in properties. Missing '" +
                       it.key() + "'.";
            }
            const std::string inner = context.empty()
                                          ? "'properties', '" + it.key() + "'"
                                          : context + ", 'properties', '" + it.key() + "'";
            if (auto p = strict_problem(it.value(), inner)) {
                return p;
            }
        }
    }
    if (type == "array" && node.contains("items")) {
        return strict_problem(node["items"], context + (context.empty() ? "" : ", ") + "'items'");
    }
    return std::nullopt;
}

std::optional<ParamRefusal> check_schema(const std::string& param, const std::string& name,
                                         const json& schema, bool strict) {
    static const std::regex k_name("^[a-zA-Z0-9_-]{1,64}$");
    if (!std::regex_match(name, k_name)) {
        return refusal(param + ".name", "Invalid '" + param + ".name': string does not match " +
                                            "pattern. Expected a string that matches the pattern "
                                            "'^[a-zA-Z0-9_-]+$'.");
    }
    if (!schema.is_object()) {
        return refusal(param + ".schema", "Missing required parameter: '" + param + ".schema'.");
    }
    const std::string prefix = "Invalid schema for response_format '" + name + "': ";
    if (schema.value("type", json()) != "object") {
        return refusal(param + ".schema", prefix +
                                              "schema must be a JSON Schema of 'type: \"object\"', "
                                              "got 'type: " +
                                              schema.value("type", json()).dump() + "'.");
    }
    if (strict) {
        if (auto p = strict_problem(schema, "")) {
            return refusal(param + ".schema", prefix + *p);
        }
    }
    return std::nullopt;
}

}  // namespace

const char* to_string(VerdictFault fault) {
    switch (fault) {
        case VerdictFault::prose:
            return "prose";
        case VerdictFault::cut_json:
            return "cut_json";
        case VerdictFault::out_of_scale:
            return "out_of_scale";
        case VerdictFault::wrong_key:
            return "wrong_key";
        case VerdictFault::score_as_text:
            return "score_as_text";
        case VerdictFault::trailing_text:
            return "trailing_text";
    }
    return "?";
}

const std::vector<VerdictFault>& all_verdict_faults() {
    static const std::vector<VerdictFault> k_all = {
        VerdictFault::prose,     VerdictFault::cut_json,      VerdictFault::out_of_scale,
        VerdictFault::wrong_key, VerdictFault::score_as_text, VerdictFault::trailing_text};
    return k_all;
}

std::optional<VerdictFault> parse_verdict_fault(const std::string& name) {
    for (VerdictFault f : all_verdict_faults()) {
        if (name == to_string(f)) {
            return f;
        }
    }
    return std::nullopt;
}

std::optional<ParamRefusal> read_structured_request(FakeApi api, const json& body,
                                                    StructuredRequest& out) {
    out = StructuredRequest{};
    if (api == FakeApi::anthropic_messages) {
        const bool has_tools = body.contains("tools");
        const json choice = body.value("tool_choice", json());
        if (has_tools && (!body["tools"].is_array() || body["tools"].empty())) {
            return refusal("", "tools: Input should be a valid list");
        }
        if (choice.is_null()) {
            return std::nullopt;  // tools the model may use or not: no forced verdict
        }
        const std::string type = choice.value("type", "");
        if (type != "auto" && type != "any" && type != "tool" && type != "none") {
            return refusal("", "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
        }
        if ((type == "tool" || type == "any") && body.contains("thinking") &&
            body["thinking"].value("type", "") == "enabled") {
            return refusal("", "Thinking may not be enabled when tool_choice forces tool use.");
        }
        if (type != "tool") {
            return std::nullopt;
        }
        const std::string name = choice.value("name", "");
        for (const auto& tool : has_tools ? body["tools"] : json::array()) {
            if (tool.value("name", "") == name) {
                if (!tool.contains("input_schema") || !tool["input_schema"].is_object() ||
                    tool["input_schema"].value("type", "") != "object") {
                    return refusal("", "tools.0.custom.input_schema.type: Field required");
                }
                out.mode = StructuredRequest::Mode::forced_tool;
                out.name = name;
                out.schema = tool["input_schema"];
                return std::nullopt;
            }
        }
        return refusal("", "Tool '" + name + "' not found in provided tools");
    }
    const bool chat = api == FakeApi::chat_completions;
    const char* param = chat ? "response_format" : "text.format";
    json format;
    if (chat) {
        format = body.value("response_format", json());
    } else if (body.contains("text") && body["text"].is_object()) {
        format = body["text"].value("format", json());
    }
    if (format.is_null()) {
        return std::nullopt;
    }
    const std::string type = format.is_object() ? format.value("type", "") : "";
    if (type == "text" || type == "json_object") {
        return std::nullopt;
    }
    if (type != "json_schema") {
        return refusal(std::string(param) + ".type",
                       "Invalid value: '" + type + "'. Supported values are: 'json_object', " +
                           "'json_schema', and 'text'.");
    }
    // Chat nests {name, strict, schema} under json_schema; Responses has them flat.
    const json spec = chat ? format.value("json_schema", json()) : format;
    const std::string where = chat ? "response_format.json_schema" : "text.format";
    if (!spec.is_object()) {
        return refusal(where, "Missing required parameter: '" + where + "'.");
    }
    out.mode = StructuredRequest::Mode::json_schema;
    out.name = spec.value("name", "");
    out.strict = spec.value("strict", false) == true;
    out.schema = spec.value("schema", json());
    return check_schema(where, out.name, out.schema, out.strict);
}

json conforming_verdict(const json& schema, int score, std::uint64_t hash,
                        const std::string& reasoning) {
    json out = json::object();
    const json props = schema.value("properties", json::object());
    for (auto it = props.begin(); it != props.end(); ++it) {
        const json& p = it.value();
        const std::string type = p.value("type", "string");
        if (p.contains("enum") && p["enum"].is_array() && !p["enum"].empty()) {
            out[it.key()] = p["enum"][hash % p["enum"].size()];
        } else if (type == "integer" || type == "number") {
            double v = score;
            if (p.contains("minimum") && p["minimum"].is_number()) {
                v = std::max(v, p["minimum"].get<double>());
            }
            if (p.contains("maximum") && p["maximum"].is_number()) {
                v = std::min(v, p["maximum"].get<double>());
            }
            out[it.key()] = type == "integer" ? json(static_cast<std::int64_t>(v)) : json(v);
        } else if (type == "boolean") {
            out[it.key()] = true;
        } else {
            out[it.key()] = reasoning;
        }
    }
    return out;
}

std::string apply_verdict_fault(VerdictFault fault, const json& verdict, int scale_max) {
    const std::string key = verdict.contains("choice") ? "choice" : "score";
    json broken = verdict;
    switch (fault) {
        case VerdictFault::prose:
            return "The answer addresses the question and is mostly accurate; I would rate it "
                   "fairly well overall.";
        case VerdictFault::cut_json: {
            const std::string text = verdict.dump();
            return text.substr(0, text.size() / 2);
        }
        case VerdictFault::out_of_scale:
            broken[key] = key == "choice" ? json("unsure") : json(scale_max + 4);
            return broken.dump();
        case VerdictFault::wrong_key:
            broken.erase(key);
            broken["rating"] = verdict.value(key, json());
            return broken.dump();
        case VerdictFault::score_as_text:
            broken[key] = "high";
            return broken.dump();
        case VerdictFault::trailing_text:
            return verdict.dump() + "\nI hope this assessment helps.";
    }
    return verdict.dump();
}

bool fault_survives(VerdictFault fault, const StructuredRequest& request) {
    if (request.mode == StructuredRequest::Mode::none) {
        return true;
    }
    if (request.mode == StructuredRequest::Mode::json_schema && request.strict) {
        return false;
    }
    return fault == VerdictFault::out_of_scale || fault == VerdictFault::wrong_key ||
           fault == VerdictFault::score_as_text;
}

}  // namespace assay::testing
