// The parameter rules of reasoning models, from the providers' public docs
// and their error messages: OpenAI "Reasoning models" (max_completion_tokens,
// default temperature only, reasoning_effort values) and Anthropic "Extended
// thinking" (budget_tokens >= 1024 and below max_tokens, no temperature).
#include "model_rules.h"

#include <algorithm>
#include <cstdio>

namespace assay::testing {

namespace {

using nlohmann::json;

bool has(const json& body, const char* key) {
    return body.is_object() && body.contains(key) && !body.at(key).is_null();
}

std::string efforts_list() {
    std::string out;
    const auto& all = accepted_efforts();
    for (std::size_t i = 0; i < all.size(); ++i) {
        out += (i == 0 ? "" : i + 1 == all.size() ? ", and " : ", ") + ("'" + all[i] + "'");
    }
    return out;
}

std::optional<ParamRefusal> check_temperature(const json& body) {
    if (!has(body, "temperature")) {
        return std::nullopt;
    }
    const json& t = body.at("temperature");
    if (t.is_number() && t.get<double>() == 1.0) {
        return std::nullopt;
    }
    return ParamRefusal{"invalid_request_error", "unsupported_value", "temperature",
                        "Unsupported value: 'temperature' does not support " + t.dump() +
                            " with this model. Only the default (1) value is supported."};
}

std::optional<ParamRefusal> check_effort(const json* effort, const std::string& param) {
    if (effort == nullptr || effort->is_null()) {
        return std::nullopt;
    }
    const auto& all = accepted_efforts();
    if (effort->is_string() &&
        std::find(all.begin(), all.end(), effort->get<std::string>()) != all.end()) {
        return std::nullopt;
    }
    const std::string value = effort->is_string() ? effort->get<std::string>() : effort->dump();
    return ParamRefusal{"invalid_request_error", "unsupported_value", param,
                        "Unsupported value: '" + param + "' does not support '" + value +
                            "' with this model. Supported values are: " + efforts_list() + "."};
}

}  // namespace

bool is_reasoning_model(std::string_view model, const std::vector<std::string>& listed) {
    if (!listed.empty()) {
        return std::find(listed.begin(), listed.end(), model) != listed.end();
    }
    auto starts = [&](std::string_view p) { return model.substr(0, p.size()) == p; };
    if (starts("gpt-5")) {
        return model.find("-chat") == std::string_view::npos;
    }
    for (std::string_view family : {"o1", "o3", "o4"}) {
        if (starts(family) && (model.size() == family.size() || model[family.size()] == '-')) {
            return true;
        }
    }
    return false;
}

const std::vector<std::string>& accepted_efforts() {
    static const std::vector<std::string> k_efforts = {"none", "minimal", "low", "medium", "high"};
    return k_efforts;
}

std::optional<ParamRefusal> check_model_parameters(FakeApi api, const json& body,
                                                   bool reasoning_model) {
    if (api == FakeApi::anthropic_messages) {
        const std::int64_t budget = thinking_budget(body);
        if (budget == 0) {
            return std::nullopt;
        }
        if (budget < 1024) {
            return ParamRefusal{"invalid_request_error", "", "",
                                "thinking.enabled.budget_tokens: Input should be greater than or "
                                "equal to 1024"};
        }
        const auto max_tokens = output_budget(api, body);
        if (max_tokens && *max_tokens <= budget) {
            return ParamRefusal{"invalid_request_error", "", "",
                                "`max_tokens` must be greater than `thinking.budget_tokens`. "
                                "Please consult our documentation at "
                                "https://docs.claude.com/en/docs/build-with-claude/"
                                "extended-thinking#max-tokens-and-context-window-size"};
        }
        if (has(body, "temperature") && body.at("temperature") != json(1)) {
            return ParamRefusal{"invalid_request_error", "", "",
                                "`temperature` may only be set to 1 when thinking is enabled or "
                                "in interleaved thinking mode. Please consult our documentation "
                                "at https://docs.claude.com/en/docs/build-with-claude/"
                                "extended-thinking#feature-compatibility"};
        }
        return std::nullopt;
    }
    if (api == FakeApi::responses) {
        for (const char* key : {"max_tokens", "max_completion_tokens"}) {
            if (has(body, key)) {
                return ParamRefusal{"invalid_request_error", "unknown_parameter", key,
                                    std::string("Unknown parameter: '") + key + "'."};
            }
        }
        if (!reasoning_model) {
            return std::nullopt;
        }
        if (auto t = check_temperature(body)) {
            return t;
        }
        const json* reasoning = has(body, "reasoning") && body.at("reasoning").is_object()
                                    ? &body.at("reasoning")
                                    : nullptr;
        const json* effort = reasoning != nullptr && reasoning->contains("effort")
                                 ? &reasoning->at("effort")
                                 : nullptr;
        return check_effort(effort, "reasoning.effort");
    }
    if (!reasoning_model) {
        return std::nullopt;
    }
    if (has(body, "max_tokens")) {
        return ParamRefusal{"invalid_request_error", "unsupported_parameter", "max_tokens",
                            "Unsupported parameter: 'max_tokens' is not supported with this "
                            "model. Use 'max_completion_tokens' instead."};
    }
    if (auto t = check_temperature(body)) {
        return t;
    }
    return check_effort(has(body, "reasoning_effort") ? &body.at("reasoning_effort") : nullptr,
                        "reasoning_effort");
}

std::optional<std::int64_t> output_budget(FakeApi api, const json& body) {
    std::vector<const char*> keys;
    if (api == FakeApi::chat_completions) {
        keys = {"max_completion_tokens", "max_tokens"};
    } else if (api == FakeApi::responses) {
        keys = {"max_output_tokens"};
    } else {
        keys = {"max_tokens"};
    }
    for (const char* key : keys) {
        if (has(body, key) && body.at(key).is_number_integer()) {
            return std::max<std::int64_t>(0, body.at(key).get<std::int64_t>());
        }
    }
    return std::nullopt;
}

std::int64_t thinking_budget(const json& body) {
    if (!has(body, "thinking") || !body.at("thinking").is_object()) {
        return 0;
    }
    const json& t = body.at("thinking");
    if (t.value("type", "") != "enabled" || !t.contains("budget_tokens") ||
        !t.at("budget_tokens").is_number_integer()) {
        return 0;
    }
    return std::max<std::int64_t>(0, t.at("budget_tokens").get<std::int64_t>());
}

}  // namespace assay::testing
