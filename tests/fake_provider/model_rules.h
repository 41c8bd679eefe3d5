#pragma once
// What today's models accept and how they spend their output budget, as the
// providers document it (README.md "Reasoning models"): the fake provider's
// request checks for OpenAI reasoning models (chat completions and the
// Responses API) and for Anthropic extended thinking, and the output budget a
// request asks for. Pure functions over the parsed request body; thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assay::testing {

enum class FakeApi { chat_completions, responses, anthropic_messages };

// A 400 the provider sends for a parameter it refuses.
struct ParamRefusal {
    std::string type = "invalid_request_error";
    std::string code;   // unsupported_parameter | unsupported_value | unknown_parameter | ""
    std::string param;  // the refused field ("" for Anthropic, which has no param)
    std::string message;
};

// OpenAI reasoning families by name (o1, o3, o4-*, gpt-5* but not *-chat*),
// unless `listed` is non-empty: then exactly the models listed.
bool is_reasoning_model(std::string_view model, const std::vector<std::string>& listed);

// The reasoning_effort values the fake's reasoning models accept.
const std::vector<std::string>& accepted_efforts();

// The first parameter the model refuses, with the provider's own message
// (e.g. "Unsupported parameter: 'max_tokens' is not supported with this
// model. Use 'max_completion_tokens' instead."), or nullopt.
std::optional<ParamRefusal> check_model_parameters(FakeApi api, const nlohmann::json& body,
                                                   bool reasoning_model);

// The output budget the request sets (max_completion_tokens / max_tokens /
// max_output_tokens), or nullopt for no limit.
std::optional<std::int64_t> output_budget(FakeApi api, const nlohmann::json& body);

// Anthropic thinking.budget_tokens when thinking is enabled, else 0.
std::int64_t thinking_budget(const nlohmann::json& body);

}  // namespace assay::testing
