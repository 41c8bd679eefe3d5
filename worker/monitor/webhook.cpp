#include "monitor/webhook.h"

#include <curl/curl.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "monitor/alert_json.h"

namespace assay {

namespace {

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

// scheme://host[:port] of a URL, for messages (the path may hold a secret).
std::string url_origin(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) {
        return "(invalid url)";
    }
    auto slash = url.find('/', scheme + 3);
    return url.substr(0, slash);
}

// Slack reads <...> as links and mentions (<!channel>): group values come
// from trace metadata, so escape the three control characters Slack defines.
std::string slack_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '&') {
            out += "&amp;";
        } else if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string alert_idempotency_key(const AlertRecord& alert, bool resolved) {
    return "assay-alert-" + std::to_string(alert.id) + (resolved ? "-resolved" : "-firing");
}

std::string alert_payload(const AlertRecord& a, bool resolved, const std::string& format) {
    using nlohmann::json;
    if (format == "slack") {
        std::string text = std::string(resolved ? "[RESOLVED] " : "[FIRING] ") + a.rule +
                           (a.group_key.empty() ? "" : " (" + a.group_key + ")") + ": " + a.message;
        return json{{"text", slack_escape(text)}}.dump(-1, ' ', false,
                                                       json::error_handler_t::replace);
    }
    json j = alert_json(a);
    j["status"] = resolved ? "resolved" : "firing";
    j["idempotency_key"] = alert_idempotency_key(a, resolved);
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status WebhookNotifier::send(const AlertRecord& alert, bool resolved) {
    static const bool k_init = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return true;
    }();
    (void)k_init;
    const std::string body = alert_payload(alert, resolved, m_opts.format);
    const std::string key_header = "Idempotency-Key: " + alert_idempotency_key(alert, resolved);
    std::string last_error;
    for (int attempt = 0; attempt <= m_opts.max_retries; ++attempt) {
        if (attempt > 0) {
            // 250 ms, 500 ms, 1 s, ... capped at 8 s.
            const int delay = std::min(8000, 250 << std::min(attempt - 1, 5));
            std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        }
        CURL* h = curl_easy_init();
        if (h == nullptr) {
            return Status::internal("curl_easy_init failed");
        }
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
        headers = curl_slist_append(headers, key_header.c_str());
        char err[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(h, CURLOPT_URL, m_opts.url.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_opts.timeout_ms));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_opts.timeout_ms));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(headers);
        curl_easy_cleanup(h);
        if (rc == CURLE_OK && code >= 200 && code < 300) {
            return {};
        }
        last_error = rc != CURLE_OK ? std::string(err[0] ? err : curl_easy_strerror(rc))
                                    : "HTTP " + std::to_string(code);
    }
    return Status::unavailable("webhook " + url_origin(m_opts.url) + ": " +
                               std::to_string(m_opts.max_retries + 1) +
                               " attempts failed, last: " + last_error);
}

}  // namespace assay
