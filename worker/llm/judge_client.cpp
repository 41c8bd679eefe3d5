// The judge client's event loop (CurlJudgeClient): scheduling under the
// limits (concurrency, RPM/TPM buckets, Retry-After holds, breaker, AIMD),
// retries, pauses, billing and results. Over 400 lines for a reason: it is
// one class whose members are the loop thread's state; what could stand
// alone lives beside it: option checks (judge_options_check.cpp), what an
// attempt means (attempt_outcome.cpp), the libcurl handle (curl_transfer.cpp)
// and one wire format per API (wire_*.cpp).
#include "llm/judge_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "llm/attempt_outcome.h"
#include "llm/backoff.h"
#include "llm/circuit_breaker.h"
#include "llm/curl_transfer.h"
#include "llm/judge_wire.h"
#include "llm/token_bucket.h"

namespace assay {

std::future<JudgeResult> JudgeClient::submit_future(JudgeRequest request) {
    auto promise = std::make_shared<std::promise<JudgeResult>>();
    auto future = promise->get_future();
    submit(std::move(request), [promise](JudgeResult r) { promise->set_value(std::move(r)); });
    return future;
}

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// AIMD: halve on 429 (at most once per k_aimd_debounce, since the 429s of one
// burst arrive together), add k_aimd_increase per success, never below
// k_aimd_floor.
constexpr double k_aimd_decrease = 0.5;
constexpr double k_aimd_increase = 0.02;
constexpr double k_aimd_floor = 0.05;
constexpr auto k_aimd_debounce = std::chrono::seconds(1);
// The loop wakes at least this often even when idle.
constexpr int k_idle_poll_ms = 1000;
constexpr const char* k_redacted = "[redacted]";

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

using Outcome = AttemptOutcome;

struct Job {
    JudgeRequest request;
    JudgeClient::Callback done;
    std::string body;
    int max_tokens = 0;  // the output budget `body` asks for
    std::int64_t est_tokens = 0;
    Clock::time_point submitted;
    Clock::time_point started{};  // the first attempt's start
    int attempts = 0;
    JudgeReply billed;  // usage summed over every attempt answered with a reply
    double cost_usd = 0.0;
};

struct Transfer {
    std::unique_ptr<Job> job;
    CurlTransfer http;
    Clock::time_point started;
};

bool retryable_status(JudgeError e) {
    switch (e) {
        case JudgeError::timeout:
        case JudgeError::transport:
        case JudgeError::rate_limited:
        case JudgeError::server_error:
        case JudgeError::malformed:
        case JudgeError::paused:
        case JudgeError::circuit_open:
        case JudgeError::cancelled:
        case JudgeError::withdrawn:
            return true;
        default:
            return false;
    }
}

void replace_all(std::string& text, const std::string& needle, const char* with) {
    if (needle.empty()) {
        return;
    }
    for (std::size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos)) {
        text.replace(pos, needle.size(), with);
    }
}

class CurlJudgeClient final : public JudgeClient {
public:
    CurlJudgeClient(JudgeOptions spec, std::string api_key, CURLM* multi, curl_slist* headers)
        : m_spec(std::move(spec)),
          m_api_key(std::move(api_key)),
          m_url(judge_request_url(m_spec)),
          m_multi(multi),
          m_headers(headers),
          m_log(spdlog::get("judge")),
          m_backoff(milliseconds(m_spec.backoff_base_ms), milliseconds(m_spec.backoff_max_ms),
                    m_spec.rng_seed),
          m_breaker(m_spec.breaker_failures, milliseconds(m_spec.breaker_cooldown_ms)) {
        const auto now = Clock::now();
        if (m_spec.requests_per_minute > 0) {
            m_rpm.emplace(TokenBucket::per_minute_limit(m_spec.requests_per_minute, now));
            m_rpm_refill = m_rpm->refill_per_second();
        }
        if (m_spec.tokens_per_minute > 0) {
            m_tpm.emplace(TokenBucket::per_minute_limit(m_spec.tokens_per_minute, now));
            m_tpm_refill = m_tpm->refill_per_second();
        }
        m_thread = std::thread([this] { run(); });
    }

    ~CurlJudgeClient() override {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        curl_multi_wakeup(m_multi);
        m_thread.join();
        curl_multi_cleanup(m_multi);
        curl_slist_free_all(m_headers);
    }

    void submit(JudgeRequest request, Callback done) override {
        auto job = std::make_unique<Job>();
        job->max_tokens = m_spec.max_tokens;
        job->body = judge_request_body(m_spec, request);
        job->est_tokens = estimate_request_tokens(m_spec, request);
        job->request = std::move(request);
        job->done = std::move(done);
        job->submitted = Clock::now();
        {
            std::lock_guard lock(m_mutex);
            if (!m_stopping) {
                m_incoming.push_back(std::move(job));
            }
        }
        if (job) {
            // Only reachable from a callback run during shutdown.
            JudgeResult r;
            r.id = job->request.id;
            r.error = JudgeError::cancelled;
            r.status = Status::unavailable("judge '" + m_spec.name + "': client shut down");
            job->done(std::move(r));
            return;
        }
        curl_multi_wakeup(m_multi);
    }

    JudgeClientStatus status() const override {
        std::lock_guard lock(m_mutex);
        return m_published;
    }

    void resume() override {
        {
            std::lock_guard lock(m_mutex);
            m_resume_requested = true;
        }
        curl_multi_wakeup(m_multi);
    }

    const JudgeOptions& options() const override { return m_spec; }

private:
    void run() {
        for (;;) {
            std::vector<std::unique_ptr<Job>> incoming;
            bool resume = false;
            {
                std::lock_guard lock(m_mutex);
                if (m_stopping) {
                    break;
                }
                incoming.swap(m_incoming);
                resume = m_resume_requested;
                m_resume_requested = false;
            }
            if (resume && m_paused) {
                m_paused = false;
                m_pause_reason.clear();
                if (m_log) {
                    m_log->info("judge '{}' resumed", m_spec.name);
                }
            }
            m_stats.submitted += incoming.size();
            for (auto& job : incoming) {
                m_ready.push_back(std::move(job));
            }
            const auto now = Clock::now();
            promote_due(now);
            const auto wake = start_ready(now);
            int running = 0;
            curl_multi_perform(m_multi, &running);
            const bool finished_any = drain_done();
            publish();

            int timeout_ms = k_idle_poll_ms;
            if (finished_any) {
                timeout_ms = 0;
            } else if (wake != Clock::time_point::max()) {
                const auto left = std::chrono::ceil<milliseconds>(wake - Clock::now()).count();
                timeout_ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, k_idle_poll_ms));
            }
            curl_multi_poll(m_multi, nullptr, 0, timeout_ms, nullptr);
        }
        shutdown();
    }

    // Moves retries whose wait is over to the front of the ready queue, in
    // due order.
    void promote_due(Clock::time_point now) {
        std::vector<std::unique_ptr<Job>> due;
        while (!m_delayed.empty() && m_delayed.begin()->first <= now) {
            due.push_back(std::move(m_delayed.begin()->second));
            m_delayed.erase(m_delayed.begin());
        }
        for (auto it = due.rbegin(); it != due.rend(); ++it) {
            m_ready.push_front(std::move(*it));
        }
    }

    std::size_t effective_concurrency() const {
        const auto limit = static_cast<std::size_t>(std::floor(m_spec.max_concurrency * m_factor));
        return std::max<std::size_t>(1, limit);
    }

    // Starts what the limits allow; returns when the loop must look again
    // (a bucket refill, a Retry-After hold, a delayed retry), or max().
    Clock::time_point start_ready(Clock::time_point now) {
        Clock::time_point wake = Clock::time_point::max();
        if (!m_delayed.empty()) {
            wake = m_delayed.begin()->first;
        }
        if (m_paused) {
            fail_all_waiting(JudgeError::paused, "paused: " + m_pause_reason);
            return Clock::time_point::max();
        }
        while (!m_ready.empty()) {
            const JudgeRequest& front = m_ready.front()->request;
            if (front.still_wanted && !front.still_wanted()) {
                auto job = std::move(m_ready.front());
                m_ready.pop_front();
                Outcome o;
                o.error = JudgeError::withdrawn;
                o.message = "judge '" + m_spec.name + "': request " + job->request.id +
                            " withdrawn by the caller before it was sent";
                finish(std::move(job), o, 0.0);
                continue;
            }
            if (m_breaker.state(now) == CircuitBreaker::State::open) {
                fail_ready(JudgeError::circuit_open,
                           "judge '" + m_spec.name + "': circuit open after " +
                               std::to_string(m_breaker.consecutive_failures()) +
                               " consecutive failures; nothing sent");
                break;
            }
            if (m_transfers.size() >= effective_concurrency()) {
                break;  // a completion wakes the loop
            }
            if (now < m_hold_until) {
                wake = std::min(wake, m_hold_until);
                break;
            }
            const Job& job = *m_ready.front();
            Clock::duration wait = Clock::duration::zero();
            if (m_rpm) {
                wait = std::max(wait, m_rpm->time_until(1, now));
            }
            if (m_tpm) {
                wait = std::max(wait, m_tpm->time_until(static_cast<double>(job.est_tokens), now));
            }
            if (wait > Clock::duration::zero()) {
                if (wait < std::chrono::hours(24)) {
                    wake = std::min(wake, now + wait);
                }
                break;
            }
            if (!m_breaker.allow(now)) {
                break;  // half-open: the trial's completion wakes the loop
            }
            if (m_rpm) {
                m_rpm->try_take(1, now);
            }
            if (m_tpm) {
                m_tpm->try_take(static_cast<double>(job.est_tokens), now);
            }
            auto next = std::move(m_ready.front());
            m_ready.pop_front();
            start(std::move(next), now);
        }
        return wake;
    }

    void start(std::unique_ptr<Job> job, Clock::time_point now) {
        ++job->attempts;
        if (job->attempts == 1) {
            job->started = now;
        }
        ++m_stats.attempts;
        if (job->attempts > 1) {
            ++m_stats.retries;
        }
        auto t = std::make_unique<Transfer>();
        t->started = now;
        if (!prepare_post(t->http, m_url, job->body, m_headers, m_spec)) {
            Outcome o;
            o.error = JudgeError::transport;
            o.message = "judge '" + m_spec.name + "': curl_easy_init failed";
            m_breaker.record_failure(now);  // frees a half-open trial slot
            finish(std::move(job), o, 0.0);
            return;
        }
        CURL* e = t->http.easy;
        t->job = std::move(job);
        if (curl_multi_add_handle(m_multi, e) != CURLM_OK) {
            Outcome o;
            o.error = JudgeError::transport;
            o.message = "judge '" + m_spec.name + "': curl_multi_add_handle failed";
            auto failed = std::move(t->job);
            m_breaker.record_failure(now);  // frees a half-open trial slot
            finish(std::move(failed), o, 0.0);
            return;
        }
        m_transfers.emplace(e, std::move(t));
    }

    bool drain_done() {
        bool any = false;
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            CURL* easy = msg->easy_handle;
            const CURLcode code = msg->data.result;
            auto node = m_transfers.extract(easy);
            curl_multi_remove_handle(m_multi, easy);
            if (node.empty()) {
                curl_easy_cleanup(easy);
                continue;
            }
            any = true;
            Transfer& t = *node.mapped();
            long connects = 0;
            AttemptResponse response = finished_response(t.http, code, connects);
            m_stats.connections += static_cast<std::uint64_t>(std::max(0L, connects));
            response.max_tokens = t.job->max_tokens;
            const auto now = Clock::now();
            Outcome o = classify_attempt(m_spec, response);
            on_attempt_done(std::move(t.job), std::move(o), ms_between(t.started, now), now);
        }
        return any;
    }

    // The provider billed this attempt: add its usage to the job's and the
    // judge's totals, and debit what the estimate missed from the TPM bucket.
    void bill(Job& job, const JudgeReply& reply, Clock::time_point now) {
        const double cost = judge_reply_cost(m_spec.price, reply);
        job.billed.input_tokens += reply.input_tokens;
        job.billed.cached_input_tokens += reply.cached_input_tokens;
        job.billed.output_tokens += reply.output_tokens;
        job.billed.reasoning_tokens += reply.reasoning_tokens;
        job.cost_usd += cost;
        m_stats.input_tokens += reply.input_tokens;
        m_stats.cached_input_tokens += reply.cached_input_tokens;
        m_stats.output_tokens += reply.output_tokens;
        m_stats.reasoning_tokens += reply.reasoning_tokens;
        m_stats.cost_usd += cost;
        if (m_tpm) {
            const auto used = reply.input_tokens + reply.output_tokens;
            if (used > job.est_tokens) {
                m_tpm->charge(static_cast<double>(used - job.est_tokens), now);
            }
        }
    }

    void on_attempt_done(std::unique_ptr<Job> job, Outcome o, double latency_ms,
                         Clock::time_point now) {
        if (o.reply) {
            bill(*job, *o.reply, now);
        }
        if (o.error == JudgeError::none) {
            m_breaker.record_success();
            aimd_increase(now);
            finish(std::move(job), o, latency_ms);
            return;
        }
        if (o.error == JudgeError::truncated && job->max_tokens < m_spec.max_tokens_on_truncation) {
            // Never the same budget again: once more with the larger one.
            m_breaker.record_success();
            if (m_log) {
                m_log->info(
                    "judge '{}' trace {}: reply truncated at {} tokens; asking once more "
                    "with max_tokens_on_truncation {}",
                    m_spec.name, job->request.id, job->max_tokens, m_spec.max_tokens_on_truncation);
            }
            job->max_tokens = m_spec.max_tokens_on_truncation;
            job->body = judge_request_body(m_spec, job->request, job->max_tokens);
            job->est_tokens += m_spec.max_tokens_on_truncation - m_spec.max_tokens;
            m_ready.push_front(std::move(job));
            return;
        }
        if (o.breaker_failure) {
            const bool was_closed = m_breaker.state(now) != CircuitBreaker::State::open;
            m_breaker.record_failure(now);
            if (was_closed && m_breaker.state(now) == CircuitBreaker::State::open && m_log) {
                m_log->warn("judge '{}': circuit open for {} ms after {} consecutive failures",
                            m_spec.name, m_spec.breaker_cooldown_ms,
                            m_breaker.consecutive_failures());
            }
        } else {
            m_breaker.record_success();  // the provider answered: it is reachable
        }
        if (o.error == JudgeError::rate_limited) {
            ++m_stats.rate_limited;
            aimd_cut(now);
        }
        if (o.retry_after) {
            m_hold_until = std::max(m_hold_until, now + *o.retry_after);
        }
        if (o.pause) {
            pause(o.message, job->request.id);
        }
        if (o.retry && !m_paused && job->attempts <= m_spec.max_retries) {
            const auto delay = m_backoff.delay(job->attempts, o.retry_after);
            if (m_log) {
                m_log->debug("judge '{}' trace {}: attempt {} failed ({}), retry in {} ms",
                             m_spec.name, job->request.id, job->attempts, to_string(o.error),
                             delay.count());
            }
            m_delayed.emplace(now + delay, std::move(job));
            return;
        }
        finish(std::move(job), o, latency_ms);
    }

    void aimd_cut(Clock::time_point now) {
        if (m_last_cut != Clock::time_point{} && now - m_last_cut < k_aimd_debounce) {
            return;
        }
        m_last_cut = now;
        m_factor = std::max(k_aimd_floor, m_factor * k_aimd_decrease);
        apply_rates(now);
        if (m_log) {
            m_log->info("judge '{}': 429, rate cut to {:.0f}%", m_spec.name, m_factor * 100.0);
        }
    }

    void aimd_increase(Clock::time_point now) {
        if (m_factor >= 1.0) {
            return;
        }
        m_factor = std::min(1.0, m_factor + k_aimd_increase);
        apply_rates(now);
    }

    void apply_rates(Clock::time_point now) {
        if (m_rpm) {
            m_rpm->set_refill_per_second(m_rpm_refill * m_factor, now);
        }
        if (m_tpm) {
            m_tpm->set_refill_per_second(m_tpm_refill * m_factor, now);
        }
    }

    void pause(const std::string& reason, const std::string& trace_id) {
        if (m_paused) {
            return;
        }
        m_paused = true;
        m_pause_reason = redact(reason);
        if (m_log) {
            m_log->error("judge '{}' paused (trace {}): {}; no requests until resumed", m_spec.name,
                         trace_id, m_pause_reason);
        }
        publish();
    }

    void fail_ready(JudgeError error, const std::string& message) {
        while (!m_ready.empty()) {
            auto job = std::move(m_ready.front());
            m_ready.pop_front();
            Outcome o;
            o.error = error;
            o.message = message;
            finish(std::move(job), o, 0.0);
        }
    }

    void fail_all_waiting(JudgeError error, const std::string& message) {
        while (!m_delayed.empty()) {
            m_ready.push_back(std::move(m_delayed.begin()->second));
            m_delayed.erase(m_delayed.begin());
        }
        fail_ready(error, message);
    }

    std::string redact(std::string text) const {
        replace_all(text, m_api_key, k_redacted);
        return text;
    }

    // Completes a job: fills its result, updates counters, runs its callback.
    void finish(std::unique_ptr<Job> job, const Outcome& o, double latency_ms) {
        JudgeResult r;
        r.id = job->request.id;
        r.error = o.error;
        r.attempts = job->attempts;
        r.http_status = o.http_status;
        r.started_at = job->started;
        r.latency_ms = latency_ms;
        r.total_ms = ms_between(job->submitted, Clock::now());
        r.input_tokens = job->billed.input_tokens;
        r.cached_input_tokens = job->billed.cached_input_tokens;
        r.output_tokens = job->billed.output_tokens;
        r.reasoning_tokens = job->billed.reasoning_tokens;
        r.cost_usd = job->cost_usd;
        if (o.reply) {
            r.finish_reason = o.reply->finish_reason;
        }
        if (o.error == JudgeError::none) {
            r.text = o.reply ? o.reply->text : std::string();
            ++m_stats.succeeded;
        } else {
            std::string message = redact(o.message);
            if (job->attempts > 1) {
                message += " (after " + std::to_string(job->attempts) + " attempts)";
            }
            r.status = Status(
                retryable_status(o.error) ? StatusCode::unavailable : StatusCode::invalid_argument,
                std::move(message));
            ++m_stats.failed;
        }
        publish();
        try {
            job->done(std::move(r));
        } catch (const std::exception& e) {
            if (m_log) {
                m_log->error("judge '{}' trace {}: callback threw: {}", m_spec.name,
                             job->request.id, e.what());
            }
        } catch (...) {
            if (m_log) {
                m_log->error("judge '{}' trace {}: callback threw", m_spec.name, job->request.id);
            }
        }
    }

    void publish() {
        JudgeClientStatus s = m_stats;
        const auto now = Clock::now();
        if (m_paused) {
            s.state = JudgeClientStatus::State::paused;
            s.pause_reason = m_pause_reason;
        } else {
            switch (m_breaker.state(now)) {
                case CircuitBreaker::State::closed:
                    s.state = JudgeClientStatus::State::active;
                    break;
                case CircuitBreaker::State::open:
                    s.state = JudgeClientStatus::State::circuit_open;
                    break;
                case CircuitBreaker::State::half_open:
                    s.state = JudgeClientStatus::State::half_open;
                    break;
            }
        }
        s.rate_factor = m_factor;
        s.in_flight = m_transfers.size();
        s.queued = m_ready.size() + m_delayed.size();
        std::lock_guard lock(m_mutex);
        s.queued += m_incoming.size();
        m_published = std::move(s);
    }

    void shutdown() {
        const std::string message = "judge '" + m_spec.name + "': client shut down";
        for (auto& [easy, t] : m_transfers) {
            curl_multi_remove_handle(m_multi, easy);  // t->http cleans the handle up
            m_ready.push_back(std::move(t->job));
        }
        m_transfers.clear();
        {
            std::lock_guard lock(m_mutex);
            for (auto& job : m_incoming) {
                m_ready.push_back(std::move(job));
            }
            m_incoming.clear();
        }
        fail_all_waiting(JudgeError::cancelled, message);
    }

    const JudgeOptions m_spec;
    const std::string m_api_key;  // never logged; redacted from every message
    const std::string m_url;
    CURLM* const m_multi;         // owned; used by the loop thread (wakeup: any thread)
    curl_slist* const m_headers;  // owned; shared by every transfer
    std::shared_ptr<spdlog::logger> m_log;

    mutable std::mutex m_mutex;  // guards the members up to m_published
    bool m_stopping = false;
    bool m_resume_requested = false;
    std::vector<std::unique_ptr<Job>> m_incoming;
    JudgeClientStatus m_published;

    // Owned by the loop thread.
    std::deque<std::unique_ptr<Job>> m_ready;
    std::multimap<Clock::time_point, std::unique_ptr<Job>> m_delayed;
    std::unordered_map<CURL*, std::unique_ptr<Transfer>> m_transfers;
    std::optional<TokenBucket> m_rpm;
    std::optional<TokenBucket> m_tpm;
    double m_rpm_refill = 0.0;
    double m_tpm_refill = 0.0;
    double m_factor = 1.0;
    Clock::time_point m_last_cut{};
    Clock::time_point m_hold_until{};
    Backoff m_backoff;
    CircuitBreaker m_breaker;
    bool m_paused = false;
    std::string m_pause_reason;
    JudgeClientStatus m_stats;

    std::thread m_thread;  // last: started once everything above exists
};

}  // namespace

Result<std::unique_ptr<JudgeClient>> make_judge_client(JudgeOptions spec) {
    ASSAY_RETURN_IF_ERROR(validate_judge_options(spec));
    std::string api_key;
    if (!spec.api_key_env.empty()) {
        const char* value = std::getenv(spec.api_key_env.c_str());
        if (value == nullptr || *value == '\0') {
            return Status::invalid_argument("judge '" + spec.name + "': environment variable " +
                                            spec.api_key_env +
                                            " (api_key_env) is not set or empty");
        }
        api_key = value;
        if (api_key.find_first_of("\r\n") != std::string::npos) {
            return Status::invalid_argument("judge '" + spec.name + "': environment variable " +
                                            spec.api_key_env + " holds a line break");
        }
    }
    if (global_curl_init() != CURLE_OK) {
        return Status::internal("judge '" + spec.name + "': curl_global_init failed");
    }
    curl_slist* headers = nullptr;
    for (const auto& line : judge_request_headers(spec, api_key)) {
        curl_slist* grown = curl_slist_append(headers, line.c_str());
        if (grown == nullptr) {
            curl_slist_free_all(headers);
            return Status::internal("judge '" + spec.name + "': out of memory");
        }
        headers = grown;
    }
    CURLM* multi = curl_multi_init();
    if (multi == nullptr) {
        curl_slist_free_all(headers);
        return Status::internal("judge '" + spec.name + "': curl_multi_init failed");
    }
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(std::max(spec.max_concurrency, 4)));
    try {
        return std::unique_ptr<JudgeClient>(
            new CurlJudgeClient(std::move(spec), std::move(api_key), multi, headers));
    } catch (const std::exception& e) {
        // std::thread failed to start: the constructor did not take ownership.
        curl_multi_cleanup(multi);
        curl_slist_free_all(headers);
        return Status::internal(std::string("judge client: ") + e.what());
    }
}

}  // namespace assay
