#include "llm/judge_wire.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace assay {

namespace {

using nlohmann::json;

std::string cut(std::string_view text, std::size_t limit) {
    std::string out;
    for (char c : text.substr(0, limit)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
    }
    if (text.size() > limit) {
        out += "...";
    }
    return out;
}

std::string string_field(const json& j, const char* key) {
    if (j.is_object()) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string()) {
            return it->get<std::string>();
        }
    }
    return {};
}

std::int64_t int_field(const json& j, const char* key) {
    if (j.is_object()) {
        auto it = j.find(key);
        if (it != j.end() && it->is_number_integer()) {
            return std::max<std::int64_t>(0, it->get<std::int64_t>());
        }
    }
    return 0;
}

}  // namespace

std::string judge_request_url(const JudgeOptions& spec) {
    std::string base = spec.base_url;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    return base + (spec.provider == JudgeProvider::openai ? "/chat/completions" : "/messages");
}

std::string judge_request_body(const JudgeOptions& spec, const JudgeRequest& request) {
    json body;
    body["model"] = spec.model;
    body["max_tokens"] = spec.max_tokens;
    body["temperature"] = spec.temperature;
    if (spec.provider == JudgeProvider::openai) {
        json messages = json::array();
        if (!request.system.empty()) {
            messages.push_back({{"role", "system"}, {"content", request.system}});
        }
        messages.push_back({{"role", "user"}, {"content", request.user}});
        body["messages"] = std::move(messages);
        if (spec.json_response_format) {
            body["response_format"] = {{"type", "json_object"}};
        }
    } else {
        if (!request.system.empty()) {
            body["system"] = request.system;
        }
        body["messages"] = json::array({{{"role", "user"}, {"content", request.user}}});
    }
    // Invalid UTF-8 in a prompt is replaced, not thrown.
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> judge_request_headers(const JudgeOptions& spec,
                                               const std::string& api_key) {
    // "Expect:" (empty) stops libcurl from sending Expect: 100-continue for
    // bodies over 1 KiB and then stalling up to a second for the 100.
    std::vector<std::string> headers{"Content-Type: application/json", "Accept: application/json",
                                     "Expect:"};
    if (spec.provider == JudgeProvider::openai) {
        if (!api_key.empty()) {
            headers.push_back("Authorization: Bearer " + api_key);
        }
    } else {
        if (!api_key.empty()) {
            headers.push_back("x-api-key: " + api_key);
        }
        headers.push_back("anthropic-version: " + spec.anthropic_version);
    }
    for (const auto& [name, value] : spec.extra_headers) {
        headers.push_back(name + ": " + value);
    }
    return headers;
}

Result<JudgeReply> parse_judge_reply(JudgeProvider provider, std::string_view body) {
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return Status::invalid_argument("reply is not JSON: '" + cut(body, 80) + "'");
    }
    if (!j.is_object()) {
        return Status::invalid_argument("reply is not a JSON object");
    }
    JudgeReply reply;
    if (provider == JudgeProvider::openai) {
        auto choices = j.find("choices");
        if (choices == j.end() || !choices->is_array() || choices->empty()) {
            return Status::invalid_argument("reply has no choices");
        }
        const json& message = (*choices)[0].is_object() && (*choices)[0].contains("message")
                                  ? (*choices)[0]["message"]
                                  : json();
        auto content = message.is_object() ? message.find("content") : message.end();
        if (!message.is_object() || content == message.end() || !content->is_string()) {
            return Status::invalid_argument("reply has no choices[0].message.content string");
        }
        reply.text = content->get<std::string>();
        reply.finish_reason = string_field((*choices)[0], "finish_reason");
        if (auto usage = j.find("usage"); usage != j.end()) {
            reply.input_tokens = int_field(*usage, "prompt_tokens");
            reply.output_tokens = int_field(*usage, "completion_tokens");
            if (auto details = usage->find("prompt_tokens_details"); details != usage->end()) {
                reply.cached_input_tokens =
                    std::min(reply.input_tokens, int_field(*details, "cached_tokens"));
            }
        }
    } else {
        auto content = j.find("content");
        if (content == j.end() || !content->is_array()) {
            return Status::invalid_argument("reply has no content array");
        }
        bool any_text = false;
        for (const auto& block : *content) {
            if (string_field(block, "type") == "text" && block.contains("text") &&
                block["text"].is_string()) {
                reply.text += block["text"].get<std::string>();
                any_text = true;
            }
        }
        if (!any_text) {
            return Status::invalid_argument("reply has no text content block");
        }
        reply.finish_reason = string_field(j, "stop_reason");
        if (auto usage = j.find("usage"); usage != j.end()) {
            reply.cached_input_tokens = int_field(*usage, "cache_read_input_tokens");
            reply.input_tokens = int_field(*usage, "input_tokens") + reply.cached_input_tokens +
                                 int_field(*usage, "cache_creation_input_tokens");
            reply.output_tokens = int_field(*usage, "output_tokens");
        }
    }
    return reply;
}

double judge_reply_cost(const JudgePrice& price, const JudgeReply& reply) {
    const double cached_price = price.cached_input_per_mtok.value_or(price.input_per_mtok);
    return static_cast<double>(reply.input_tokens - reply.cached_input_tokens) *
               price.input_per_mtok / 1e6 +
           static_cast<double>(reply.cached_input_tokens) * cached_price / 1e6 +
           static_cast<double>(reply.output_tokens) * price.output_per_mtok / 1e6;
}

ProviderError parse_provider_error(std::string_view body) {
    ProviderError out;
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
        auto err = j.find("error");
        if (err != j.end() && err->is_object()) {
            out.type = string_field(*err, "type");
            out.code = string_field(*err, "code");
            out.message = cut(string_field(*err, "message"), 500);
            return out;
        }
        if (err != j.end() && err->is_string()) {
            out.message = cut(err->get<std::string>(), 500);
            return out;
        }
        out.message = cut(string_field(j, "message"), 500);
        if (!out.message.empty()) {
            return out;
        }
    }
    out.message = cut(body, 200);
    return out;
}

std::int64_t estimate_request_tokens(const JudgeOptions& spec, const JudgeRequest& request) {
    return static_cast<std::int64_t>((request.system.size() + request.user.size()) / 4) +
           std::max(spec.max_tokens, 0);
}

void append_key_field(std::string& material, std::string_view field) {
    material += '\n';
    material += std::to_string(field.size());
    material += ':';
    material.append(field.data(), field.size());
}

std::string request_key_material(std::string_view tag, const JudgeOptions& spec) {
    std::string material(tag);
    char temp[32];
    std::snprintf(temp, sizeof temp, "%.17g", spec.temperature);
    append_key_field(material, to_string(spec.provider));
    append_key_field(material, spec.model);
    append_key_field(material, temp);
    append_key_field(material, std::to_string(spec.max_tokens));
    append_key_field(material, spec.json_response_format ? "json" : "text");
    return material;
}

}  // namespace assay
