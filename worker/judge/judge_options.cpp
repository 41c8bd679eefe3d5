#include "judge/judge_options.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

namespace assay {

namespace {

using nlohmann::json;

constexpr int k_default_max_tokens = 512;
constexpr int k_default_reasoning_max_tokens = 4096;

class Reader {
public:
    Reader(const json& j, std::string who) : m_j(j), m_who(std::move(who)) {}

    Status bad(const std::string& key, const std::string& problem) const {
        return Status::invalid_argument(m_who + ": key '" + key + "': " + problem);
    }
    Status number(const std::string& key, double& out) {
        m_seen.insert(key);
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) {
            return {};
        }
        if (!it->is_number()) {
            return bad(key, "expected a number, got " + it->dump());
        }
        out = it->get<double>();
        return {};
    }
    Status integer(const std::string& key, int& out) {
        double v = out;
        ASSAY_RETURN_IF_ERROR(number(key, v));
        if (std::floor(v) != v || v < -2e9 || v > 2e9) {
            return bad(key, "expected an integer, got " + m_j.at(key).dump());
        }
        out = static_cast<int>(v);
        return {};
    }
    Status text(const std::string& key, std::string& out) {
        m_seen.insert(key);
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) {
            return {};
        }
        if (!it->is_string()) {
            return bad(key, "expected a string, got " + it->dump());
        }
        out = it->get<std::string>();
        return {};
    }
    Status boolean(const std::string& key, bool& out) {
        m_seen.insert(key);
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) {
            return {};
        }
        if (!it->is_boolean()) {
            return bad(key, "expected true or false, got " + it->dump());
        }
        out = it->get<bool>();
        return {};
    }
    const json* node(const std::string& key) {
        m_seen.insert(key);
        auto it = m_j.find(key);
        return it == m_j.end() || it->is_null() ? nullptr : &*it;
    }
    Status finish() const {
        for (auto it = m_j.begin(); it != m_j.end(); ++it) {
            if (m_seen.count(it.key()) == 0) {
                return Status::invalid_argument(m_who + ": unknown key '" + it.key() + "'");
            }
        }
        return {};
    }

private:
    const json& m_j;
    std::string m_who;
    std::set<std::string> m_seen;
};

Status read_redaction(const json& node, Reader& r, JudgeRedaction& out) {
    if (node.is_boolean()) {
        const bool on = node.get<bool>();
        out = JudgeRedaction{on, on, on};
        return {};
    }
    if (!node.is_array()) {
        return r.bad("redact",
                     "expected true, false or a list of email, phone, card; got " + node.dump());
    }
    out = JudgeRedaction{false, false, false};
    for (const auto& kind : node) {
        const std::string k = kind.is_string() ? kind.get<std::string>() : kind.dump();
        if (k == "email") {
            out.email = true;
        } else if (k == "phone") {
            out.phone = true;
        } else if (k == "card") {
            out.card = true;
        } else {
            return r.bad("redact", "unknown kind '" + k + "' (known: email, phone, card)");
        }
    }
    return {};
}

}  // namespace

Result<JudgeRuntime> judge_runtime_from_json(std::string_view config_json) {
    json j;
    try {
        j = json::parse(config_json);
    } catch (const json::exception& e) {
        return Status::invalid_argument(std::string("judge config is not JSON: ") + e.what());
    }
    if (!j.is_object()) {
        return Status::invalid_argument("judge config: expected a mapping");
    }
    JudgeRuntime out;
    JudgeOptions& o = out.transport;
    std::string name;
    if (auto it = j.find("name"); it != j.end() && it->is_string()) {
        name = it->get<std::string>();
    }
    Reader r(j, "judge '" + name + "'");
    ASSAY_RETURN_IF_ERROR(r.text("name", o.name));
    std::string provider;
    ASSAY_RETURN_IF_ERROR(r.text("provider", provider));
    auto p = parse_judge_provider(provider);
    if (!p.ok()) {
        return r.bad("provider", "must be openai or anthropic, got '" + provider + "'");
    }
    o.provider = *p;
    const bool openai = o.provider == JudgeProvider::openai;
    o.base_url = openai ? "https://api.openai.com/v1" : "https://api.anthropic.com/v1";
    o.api = openai ? JudgeApi::chat_completions : JudgeApi::messages;
    ASSAY_RETURN_IF_ERROR(r.text("base_url", o.base_url));
    std::string api;
    ASSAY_RETURN_IF_ERROR(r.text("api", api));
    if (!api.empty()) {
        auto a = parse_judge_api(api);
        if (!a.ok()) {
            return r.bad("api",
                         "must be chat_completions or responses (openai) or messages "
                         "(anthropic), got '" +
                             api + "'");
        }
        o.api = *a;
    }
    ASSAY_RETURN_IF_ERROR(r.text("model", o.model));
    ASSAY_RETURN_IF_ERROR(r.text("api_key_env", o.api_key_env));
    ASSAY_RETURN_IF_ERROR(r.text("reasoning_effort", o.reasoning_effort));
    ASSAY_RETURN_IF_ERROR(r.integer("thinking_budget_tokens", o.thinking_budget_tokens));
    ASSAY_RETURN_IF_ERROR(r.text("max_tokens_field", o.max_tokens_field));
    // Reasoning models spend the output budget on reasoning first and take
    // only their default temperature: other defaults for them.
    const bool reasoning = (openai && is_openai_reasoning_model(o.model)) ||
                           !o.reasoning_effort.empty() || o.thinking_budget_tokens > 0;
    o.temperature = reasoning ? std::nullopt : std::optional<double>(0.0);
    if (const json* t = r.node("temperature")) {
        if (t->is_string() && t->get<std::string>() == "default") {
            o.temperature.reset();
        } else if (t->is_number()) {
            o.temperature = t->get<double>();
        } else {
            return r.bad("temperature",
                         "expected a number or 'default' (left out), got " + t->dump());
        }
    }
    o.max_tokens = !reasoning ? k_default_max_tokens
                              : std::max(k_default_reasoning_max_tokens,
                                         o.thinking_budget_tokens + k_default_max_tokens);
    ASSAY_RETURN_IF_ERROR(r.integer("max_tokens", o.max_tokens));
    ASSAY_RETURN_IF_ERROR(r.integer("max_tokens_on_truncation", o.max_tokens_on_truncation));
    ASSAY_RETURN_IF_ERROR(r.integer("max_concurrency", o.max_concurrency));
    ASSAY_RETURN_IF_ERROR(r.integer("requests_per_minute", o.requests_per_minute));
    ASSAY_RETURN_IF_ERROR(r.integer("tokens_per_minute", o.tokens_per_minute));
    ASSAY_RETURN_IF_ERROR(r.integer("timeout_ms", o.timeout_ms));
    ASSAY_RETURN_IF_ERROR(r.integer("connect_timeout_ms", o.connect_timeout_ms));
    ASSAY_RETURN_IF_ERROR(r.integer("max_retries", o.max_retries));
    ASSAY_RETURN_IF_ERROR(r.integer("max_retry_after_ms", o.max_retry_after_ms));
    ASSAY_RETURN_IF_ERROR(r.boolean("json_response_format", o.json_response_format));
    // Structured verdicts by default where the provider has them: OpenAI
    // (unless the server refuses response_format: json_response_format
    // false), Anthropic unless thinking is on (no forced tool use with it).
    o.structured_output = openai ? o.json_response_format : o.thinking_budget_tokens == 0;
    ASSAY_RETURN_IF_ERROR(r.boolean("structured_output", o.structured_output));
    ASSAY_RETURN_IF_ERROR(r.number("daily_budget_usd", out.daily_budget_usd));
    if (out.daily_budget_usd < 0) {
        return r.bad("daily_budget_usd", "must be >= 0 (0 = no budget)");
    }
    ASSAY_RETURN_IF_ERROR(r.boolean("cache", out.cache));
    if (const json* red = r.node("redact")) {
        ASSAY_RETURN_IF_ERROR(read_redaction(*red, r, out.redact));
    }
    if (const json* price = r.node("price")) {
        if (!price->is_object()) {
            return r.bad("price", "expected a mapping {input_per_mtok, output_per_mtok}");
        }
        Reader pr(*price, "judge '" + name + "': price");
        ASSAY_RETURN_IF_ERROR(pr.number("input_per_mtok", o.price.input_per_mtok));
        ASSAY_RETURN_IF_ERROR(pr.number("output_per_mtok", o.price.output_per_mtok));
        if (price->contains("cached_input_per_mtok")) {
            double cached = 0;
            ASSAY_RETURN_IF_ERROR(pr.number("cached_input_per_mtok", cached));
            o.price.cached_input_per_mtok = cached;
        }
        ASSAY_RETURN_IF_ERROR(pr.finish());
    }
    if (const json* headers = r.node("headers")) {
        if (!headers->is_object()) {
            return r.bad("headers", "expected a mapping of header names to values");
        }
        for (auto it = headers->begin(); it != headers->end(); ++it) {
            if (!it->is_string()) {
                return r.bad("headers", "value of '" + it.key() + "' must be a string");
            }
            o.extra_headers.emplace_back(it.key(), it->get<std::string>());
        }
    }
    ASSAY_RETURN_IF_ERROR(r.finish());
    ASSAY_RETURN_IF_ERROR(validate_judge_options(o));
    return out;
}

Result<JudgeRuntime> judge_runtime_from_spec(const JudgeSpec& spec) {
    return judge_runtime_from_json(spec.config_json);
}

}  // namespace assay
