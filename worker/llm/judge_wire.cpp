#include "llm/judge_wire.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "llm/wire_format.h"

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

}  // namespace

namespace wire {

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

const json* object_field(const json& j, const char* key) {
    if (!j.is_object()) {
        return nullptr;
    }
    auto it = j.find(key);
    return it != j.end() && it->is_object() ? &*it : nullptr;
}

std::optional<nlohmann::ordered_json> reply_schema(const JudgeOptions& spec,
                                                   const JudgeRequest& request) {
    if (!spec.structured_output || request.reply_schema.empty()) {
        return std::nullopt;
    }
    auto schema = nlohmann::ordered_json::parse(request.reply_schema, nullptr, false);
    if (schema.is_discarded() || !schema.is_object()) {
        return std::nullopt;
    }
    return schema;
}

void read_openai_usage(const json& reply_json, const std::string& input_key,
                       const std::string& output_key, JudgeReply& reply) {
    const json* usage = object_field(reply_json, "usage");
    if (usage == nullptr) {
        return;
    }
    reply.input_tokens = int_field(*usage, input_key.c_str());
    reply.output_tokens = int_field(*usage, output_key.c_str());
    if (const json* in = object_field(*usage, (input_key + "_details").c_str())) {
        reply.cached_input_tokens = std::min(reply.input_tokens, int_field(*in, "cached_tokens"));
    }
    if (const json* out = object_field(*usage, (output_key + "_details").c_str())) {
        reply.reasoning_tokens = std::min(reply.output_tokens, int_field(*out, "reasoning_tokens"));
    }
}

}  // namespace wire

using wire::string_field;

std::string judge_request_url(const JudgeOptions& spec) {
    std::string base = spec.base_url;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    switch (judge_api(spec)) {
        case JudgeApi::chat_completions:
            return base + "/chat/completions";
        case JudgeApi::responses:
            return base + "/responses";
        case JudgeApi::messages:
            return base + "/messages";
    }
    return base;
}

std::string judge_request_body(const JudgeOptions& spec, const JudgeRequest& request) {
    return judge_request_body(spec, request, spec.max_tokens);
}

std::string judge_request_body(const JudgeOptions& spec, const JudgeRequest& request,
                               int max_tokens) {
    nlohmann::ordered_json body;
    switch (judge_api(spec)) {
        case JudgeApi::chat_completions:
            body = wire::chat_completions_body(spec, request, max_tokens);
            break;
        case JudgeApi::responses:
            body = wire::responses_body(spec, request, max_tokens);
            break;
        case JudgeApi::messages:
            body = wire::anthropic_messages_body(spec, request, max_tokens);
            break;
    }
    // Invalid UTF-8 in a prompt is replaced, not thrown.
    return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::vector<std::string> judge_request_headers(const JudgeOptions& spec,
                                               const std::string& api_key) {
    // "Expect:" (empty) stops libcurl from sending Expect: 100-continue for
    // bodies over 1 KiB and then stalling up to a second for the 100.
    std::vector<std::string> headers{"Content-Type: application/json", "Accept: application/json",
                                     "Expect:"};
    if (judge_api(spec) != JudgeApi::messages) {
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

Result<JudgeReply> parse_judge_reply(JudgeApi api, std::string_view body) {
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return Status::invalid_argument("reply is not JSON: '" + cut(body, 80) + "'");
    }
    if (!j.is_object()) {
        return Status::invalid_argument("reply is not a JSON object");
    }
    switch (api) {
        case JudgeApi::chat_completions:
            return wire::parse_chat_completions(j);
        case JudgeApi::responses:
            return wire::parse_responses(j);
        case JudgeApi::messages:
            return wire::parse_anthropic_messages(j);
    }
    return Status::invalid_argument("unknown api");
}

Result<JudgeReply> parse_judge_reply(JudgeProvider provider, std::string_view body) {
    return parse_judge_reply(
        provider == JudgeProvider::openai ? JudgeApi::chat_completions : JudgeApi::messages, body);
}

double judge_reply_cost(const JudgePrice& price, const JudgeReply& reply) {
    const double cached_price = price.cached_input_per_mtok.value_or(price.input_per_mtok);
    return static_cast<double>(reply.input_tokens - reply.cached_input_tokens) *
               price.input_per_mtok / 1e6 +
           static_cast<double>(reply.cached_input_tokens) * cached_price / 1e6 +
           static_cast<double>(reply.output_tokens) * price.output_per_mtok / 1e6;
}

double judge_call_estimate(const JudgeOptions& judge, size_t prompt_bytes) {
    const double in_tokens = static_cast<double>(prompt_bytes) / 4.0;
    return (in_tokens * judge.price.input_per_mtok +
            judge.max_tokens * judge.price.output_per_mtok) /
           1e6;
}

ProviderError parse_provider_error(std::string_view body) {
    ProviderError out;
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
        auto err = j.find("error");
        if (err != j.end() && err->is_object()) {
            out.type = string_field(*err, "type");
            out.code = string_field(*err, "code");
            out.param = string_field(*err, "param");
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
    char temp[32] = "default";
    if (spec.temperature) {
        std::snprintf(temp, sizeof temp, "%.17g", *spec.temperature);
    }
    append_key_field(material, to_string(spec.provider));
    append_key_field(material, spec.model);
    append_key_field(material, temp);
    append_key_field(material, std::to_string(spec.max_tokens));
    append_key_field(material, spec.json_response_format ? "json" : "text");
    // Only when set, so the keys of configs without them are unchanged.
    if (spec.api == JudgeApi::responses) {
        append_key_field(material, "api=responses");
    }
    if (!spec.reasoning_effort.empty()) {
        append_key_field(material, "reasoning_effort=" + spec.reasoning_effort);
    }
    if (spec.thinking_budget_tokens > 0) {
        append_key_field(material, "thinking=" + std::to_string(spec.thinking_budget_tokens));
    }
    return material;
}

}  // namespace assay
