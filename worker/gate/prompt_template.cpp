#include "gate/prompt_template.h"

#include <fstream>
#include <sstream>

#include "core/placeholder_template.h"
#include "core/sha256.h"
#include "core/text.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

constexpr std::string_view k_known = "known: input, context, reference, metadata.KEY";

bool known_variable(std::string_view v) {
    constexpr std::string_view k_meta = "metadata.";
    return v == "input" || v == "context" || v == "reference" ||
           (v.size() > k_meta.size() && v.substr(0, k_meta.size()) == k_meta);
}

// Text of a message's `content` (a string, or the text parts of a list) or
// of a context passage.
std::string content_text(const json& content) {
    if (content.is_string()) {
        return content.get<std::string>();
    }
    if (content.is_array()) {
        std::string out;
        for (const auto& part : content) {
            if (part.is_object() && part.contains("text") && part["text"].is_string()) {
                out += (out.empty() ? "" : "\n") + part["text"].get<std::string>();
            } else if (part.is_string()) {
                out += (out.empty() ? "" : "\n") + part.get<std::string>();
            }
        }
        return out;
    }
    if (content.is_object()) {  // a context passage {"content"|"text": "..."}
        for (const char* key : {"content", "text"}) {
            if (content.contains(key) && content[key].is_string()) {
                return content[key].get<std::string>();
            }
        }
    }
    return content.is_null() ? std::string() : content.dump();
}

std::string render_input(const json& input) {
    if (input.is_string()) {
        return input.get<std::string>();
    }
    if (!input.is_array()) {
        return input.dump();
    }
    std::string out;
    for (const auto& m : input) {
        if (!out.empty()) {
            out += "\n\n";
        }
        if (m.is_object()) {
            std::string role = m.contains("role") && m["role"].is_string()
                                   ? m["role"].get<std::string>()
                                   : "message";
            out += role + ": " + content_text(m.contains("content") ? m["content"] : json());
        } else {
            out += content_text(m);
        }
    }
    return out;
}

std::string render_context(const json& context) {
    if (!context.is_array()) {
        return context.is_string() ? context.get<std::string>() : context.dump();
    }
    std::string out;
    for (size_t i = 0; i < context.size(); ++i) {
        if (i > 0) {
            out += "\n\n";
        }
        out += "[" + std::to_string(i + 1) + "] " + content_text(context[i]);
    }
    return out;
}

bool empty_value(const json& v) {
    return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
           (v.is_array() && v.empty());
}

}  // namespace

Result<PromptTemplate> parse_prompt_template(std::string_view text, const std::string& path) {
    const std::string who = "prompt '" + path + "'";
    if (trim(text).empty()) {
        return Status::invalid_argument(who + ": the template is empty");
    }
    auto pieces = scan_placeholders(text, known_variable, k_known);
    if (!pieces.ok()) {
        return Status::invalid_argument(who + " " + pieces.status().message());
    }
    PromptTemplate out;
    out.path = path;
    out.sha256 = sha256_hex(text);
    out.pieces = std::move(pieces).value();
    return out;
}

Result<PromptTemplate> load_prompt_template(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::io_error("prompt '" + path + "': cannot be read");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        return Status::io_error("prompt '" + path + "': read error");
    }
    return parse_prompt_template(ss.str(), path);
}

Result<std::string> render_prompt(const PromptTemplate& prompt, const GateCase& c) {
    std::string out;
    for (const auto& p : prompt.pieces) {
        if (!p.variable) {
            out += p.text;
            continue;
        }
        const json* value = nullptr;
        json metadata_value;
        if (p.text == "input") {
            value = &c.input;
        } else if (p.text == "context") {
            value = &c.context;
        } else if (p.text == "reference") {
            value = &c.reference;
        } else {
            const std::string key = p.text.substr(9);
            if (c.metadata.is_object() && c.metadata.contains(key)) {
                value = &c.metadata.at(key);
            }
        }
        if (value == nullptr || empty_value(*value)) {
            return Status::invalid_argument("case '" + c.id + "': prompt '" + prompt.path +
                                            "' line " + std::to_string(p.line) + " uses {{" +
                                            p.text + "}}, which the case does not have");
        }
        if (p.text == "input") {
            out += render_input(*value);
        } else if (p.text == "context") {
            out += render_context(*value);
        } else if (value->is_string()) {
            out += value->get<std::string>();
        } else {
            out += value->dump();
        }
    }
    return out;
}

}  // namespace assay::gate
