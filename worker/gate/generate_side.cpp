#include "gate/generate_side.h"

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/sha256.h"
#include "core/time_format.h"
#include "gate/side_outputs.h"
#include "llm/judge_wire.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

std::string money(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.4f", v);
    return buf;
}

// One case's answer, from the cache or a call.
struct Answer {
    bool done = false;
    std::string text;
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    double latency_ms = 0.0;
    std::string finish_reason;
    Status error;
};

// The judge_cache `reply` of a subject entry: {"text", "latency_ms", "finish_reason"}.
std::string cache_reply(const Answer& a) {
    return json{{"text", a.text}, {"latency_ms", a.latency_ms}, {"finish_reason", a.finish_reason}}
        .dump();
}

bool read_cache_reply(const std::string& reply, Answer& a) {
    json j = json::parse(reply, nullptr, false);
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
        return false;
    }
    a.text = j["text"].get<std::string>();
    if (j.contains("latency_ms") && j["latency_ms"].is_number()) {
        a.latency_ms = j["latency_ms"].get<double>();
    }
    if (j.contains("finish_reason") && j["finish_reason"].is_string()) {
        a.finish_reason = j["finish_reason"].get<std::string>();
    }
    return true;
}

}  // namespace

std::string generation_cache_key(const JudgeOptions& subject, std::string_view system,
                                 std::string_view prompt) {
    std::string material = request_key_material("assay-generate-cache-v1", subject);
    append_key_field(material, system);
    append_key_field(material, prompt);
    return sha256_hex(material);
}

SubjectGenerator::SubjectGenerator(SubjectRuntime subject, JudgeClient& client, Store* store,
                                   std::function<int64_t()> now_ms)
    : m_subject(std::move(subject)),
      m_client(client),
      m_store(store),
      m_now(now_ms ? std::move(now_ms) : std::function<int64_t()>(&assay::now_ms)) {}

Result<GeneratedSide> SubjectGenerator::generate(
    const std::string& side, const PromptTemplate& prompt, const Dataset& dataset,
    const std::function<void(size_t, size_t)>& progress) {
    const JudgeOptions& t = m_subject.rt.transport;
    const std::string who = side + " (prompt '" + prompt.path + "', " + t.name + ")";
    const size_t n = dataset.cases.size();

    // 1. Render every prompt first: a missing variable fails before any call.
    std::vector<std::string> prompts(n), keys(n);
    for (size_t i = 0; i < n; ++i) {
        auto p = render_prompt(prompt, dataset.cases[i]);
        if (!p.ok()) {
            return Status::invalid_argument(side + ": " + p.status().message());
        }
        prompts[i] = std::move(p).value();
        keys[i] = generation_cache_key(t, m_subject.system, prompts[i]);
    }

    // 2. The cache.
    std::vector<Answer> answers(n);
    GeneratedSide out;
    out.subject = t.name;
    size_t done = 0;
    if (m_store != nullptr && m_subject.rt.cache) {
        for (size_t i = 0; i < n; ++i) {
            auto hit = m_store->judge_cache_get(keys[i]);
            if (!hit.ok()) {
                return Status(hit.status().code(),
                              who + ": reading the cache: " + hit.status().message());
            }
            if (*hit && read_cache_reply((*hit)->reply, answers[i])) {
                answers[i].done = true;
                answers[i].input_tokens = (*hit)->input_tokens;
                answers[i].output_tokens = (*hit)->output_tokens;
                ++out.stats.cache_hits;
                ++done;
            }
        }
    }

    // 3. The budget, for the calls still to make (nothing is sent when over).
    const int64_t started = m_now();
    const std::string day = format_rfc3339_ms(started).substr(0, 10);
    if (m_subject.rt.daily_budget_usd > 0) {
        double need = 0;
        size_t calls = 0;
        for (size_t i = 0; i < n; ++i) {
            if (!answers[i].done) {
                need += judge_call_estimate(t, m_subject.system.size() + prompts[i].size());
                ++calls;
            }
        }
        double spent = 0;
        if (m_store != nullptr) {
            auto s = m_store->judge_spend(t.name, day);
            if (!s.ok()) {
                return Status(s.status().code(),
                              who + ": reading today's spend: " + s.status().message());
            }
            spent = s->cost_usd;
        }
        if (calls > 0 && spent + need > m_subject.rt.daily_budget_usd) {
            return Status::invalid_argument(
                who + ": over the subject's daily budget: " + money(spent) + " spent on " + day +
                " (UTC) and up to " + money(need) + " needed for " + std::to_string(calls) +
                " uncached requests, of " + money(m_subject.rt.daily_budget_usd) +
                " (subject.daily_budget_usd); nothing was sent");
        }
    }
    if (progress && done > 0) {
        progress(done, n);
    }

    // 4. The calls, all queued at once: the client applies the limits.
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<JudgeResult>> results(n);
    size_t submitted = 0;
    for (size_t i = 0; i < n; ++i) {
        if (answers[i].done) {
            continue;
        }
        ++submitted;
        m_client.submit(JudgeRequest{m_subject.system, prompts[i], dataset.cases[i].id},
                        [&mu, &cv, &results, i](JudgeResult r) {
                            std::lock_guard<std::mutex> lock(mu);
                            results[i] = std::move(r);
                            cv.notify_all();
                        });
    }
    size_t finished = 0;
    std::vector<bool> seen(n, false);
    while (finished < submitted) {
        std::vector<size_t> fresh;
        {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] {
                for (size_t i = 0; i < n; ++i) {
                    if (results[i] && !seen[i]) {
                        return true;
                    }
                }
                return false;
            });
            for (size_t i = 0; i < n; ++i) {
                if (results[i] && !seen[i]) {
                    seen[i] = true;
                    fresh.push_back(i);
                }
            }
        }
        finished += fresh.size();
        for (size_t i : fresh) {
            const JudgeResult& r = *results[i];
            Answer& a = answers[i];
            out.stats.attempts += r.attempts;
            out.stats.input_tokens += r.input_tokens;
            out.stats.output_tokens += r.output_tokens;
            out.stats.cost_usd += r.cost_usd;
            a.done = r.ok();
            if (r.ok()) {
                ++out.stats.requests;
                a.text = r.text;
                a.input_tokens = r.input_tokens;
                a.output_tokens = r.output_tokens;
                a.latency_ms = r.latency_ms;
                a.finish_reason = r.finish_reason;
            } else {
                a.error = r.status.ok() ? Status::unavailable(to_string(r.error)) : r.status;
            }
        }
        if (progress && !fresh.empty()) {
            progress(done + finished, n);
        }
    }

    // 5. Store what was learnt (also when some cases failed: a fixed re-run is cheaper).
    if (m_store != nullptr) {
        std::vector<JudgeCacheEntry> cache;
        if (m_subject.rt.cache) {
            for (size_t i = 0; i < n; ++i) {
                if (results[i] && results[i]->ok()) {
                    cache.push_back({keys[i], t.name, t.model, cache_reply(answers[i]),
                                     answers[i].input_tokens, answers[i].output_tokens, m_now()});
                }
            }
        }
        std::vector<JudgeSpend> spend;
        if (out.stats.attempts > 0 || out.stats.cache_hits > 0) {
            spend.push_back({t.name, day, out.stats.attempts, out.stats.input_tokens,
                             out.stats.output_tokens, out.stats.cost_usd, out.stats.cache_hits});
        }
        if (Status st = m_store->record_llm_calls(cache, spend); !st.ok()) {
            return Status(st.code(), who + ": storing the cache and spend: " + st.message());
        }
    }

    // 6. Fail closed on any failed case.
    size_t failed = 0;
    std::string first;
    for (size_t i = 0; i < n; ++i) {
        if (!answers[i].done) {
            if (failed++ == 0) {
                first = "case '" + dataset.cases[i].id + "': " + answers[i].error.message();
            }
        }
    }
    if (failed > 0) {
        return Status::unavailable(who + ": generation failed for " + std::to_string(failed) +
                                   " of " + std::to_string(n) + " cases; first: " + first);
    }

    // 7. The traces.
    JudgePrice price = t.price;
    for (size_t i = 0; i < n; ++i) {
        const Answer& a = answers[i];
        JudgeReply usage;
        usage.input_tokens = a.input_tokens;
        usage.output_tokens = a.output_tokens;
        json j;
        j["trace_id"] = dataset.cases[i].id;
        j["output"] = a.text;
        j["usage"] = {{"input_tokens", a.input_tokens},
                      {"output_tokens", a.output_tokens},
                      {"cost_usd", judge_reply_cost(price, usage)}};
        j["latency_ms"] = a.latency_ms;
        if (!a.finish_reason.empty()) {
            j["finish_reason"] = a.finish_reason;
        }
        j["metadata"] = {
            {"model", t.model}, {"prompt_file", prompt.path}, {"prompt_sha256", prompt.sha256}};
        Result<Trace> parsed = trace_from_json(j, 0);
        if (!parsed.ok()) {
            return Status::invalid_argument(
                who + ": case '" + dataset.cases[i].id +
                "': the reply does not form a valid trace: " + parsed.status().message());
        }
        Result<Trace> full = complete_from_case(*parsed, dataset.cases[i]);
        if (!full.ok()) {
            return Status::invalid_argument(who + ": " + full.status().message());
        }
        out.traces.push_back(std::move(full).value());
        out.jsonl.push_back(std::move(parsed->raw));
    }
    return out;
}

Status save_generated(const std::string& dir, const std::string& side,
                      const GeneratedSide& generated) {
    const std::string path = dir + "/" + side + ".jsonl";
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    for (const auto& line : generated.jsonl) {
        f << line << '\n';
    }
    f.flush();
    if (!f) {
        return Status::io_error("--save-outputs: cannot write '" + path + "'");
    }
    return {};
}

}  // namespace assay::gate
