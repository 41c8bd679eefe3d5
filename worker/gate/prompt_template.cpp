#include "gate/prompt_template.h"

#include <fstream>
#include <sstream>

#include "core/sha256.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

constexpr const char* k_known = "known: input, context, reference, metadata.KEY";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && is_space(s[b])) {
        ++b;
    }
    while (e > b && is_space(s[e - 1])) {
        --e;
    }
    return std::string(s.substr(b, e - b));
}

bool known_variable(const std::string& v) {
    if (v == "input" || v == "context" || v == "reference") {
        return true;
    }
    if (v.rfind("metadata.", 0) != 0 || v.size() == 9) {
        return false;
    }
    for (char c : v) {
        if (is_space(c) || c == '{' || c == '}') {
            return false;
        }
    }
    return true;
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
            std::string role = m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "message";
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
    PromptTemplate out;
    out.path = path;
    out.sha256 = sha256_hex(text);
    int line = 1;
    size_t pos = 0;
    auto count_lines = [&line](std::string_view s) {
        for (char c : s) {
            line += c == '\n' ? 1 : 0;
        }
    };
    while (pos < text.size()) {
        const size_t open = text.find("{{", pos);
        const std::string_view literal = text.substr(pos, open == std::string_view::npos ? text.npos : open - pos);
        if (!literal.empty()) {
            out.pieces.push_back({false, std::string(literal), line});
            count_lines(literal);
        }
        if (open == std::string_view::npos) {
            break;
        }
        const size_t close = text.find("}}", open + 2);
        const size_t newline = text.find('\n', open + 2);
        if (close == std::string_view::npos || (newline != std::string_view::npos && newline < close)) {
            return Status::invalid_argument(who + " line " + std::to_string(line) +
                                            ": '{{' is not closed by '}}' on the same line (" + k_known + ")");
        }
        const std::string name = trim(text.substr(open + 2, close - open - 2));
        if (name.empty()) {
            return Status::invalid_argument(who + " line " + std::to_string(line) + ": empty placeholder {{}} (" +
                                            k_known + ")");
        }
        if (!known_variable(name)) {
            return Status::invalid_argument(who + " line " + std::to_string(line) + ": unknown variable {{" + name +
                                            "}} (" + k_known + ")");
        }
        out.pieces.push_back({true, name, line});
        pos = close + 2;
    }
    if (trim(text).empty()) {
        return Status::invalid_argument(who + ": the template is empty");
    }
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
            return Status::invalid_argument("case '" + c.id + "': prompt '" + prompt.path + "' line " +
                                            std::to_string(p.line) + " uses {{" + p.text +
                                            "}}, which the case does not have");
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
