#pragma once
// Alert delivery: an HTTP POST of one notification (firing or resolved) to
// the configured webhook via libcurl, retried with backoff (README
// "Monitoring", "Delivery"). Payloads: Slack-compatible {"text": "..."} or
// generic JSON with every field of the alert. A 2xx answer is success; other
// answers and transport errors are retried up to max_retries times, then
// reported as unavailable (naming the URL's host and the last error). The URL
// is never logged with its path (Slack URLs hold a secret). Every POST
// carries the notice's idempotency key (alert_idempotency_key) in an
// `Idempotency-Key` header, and the json format also in the body
// ("idempotency_key"): a notice sent twice (a checker died after the
// receiver got it, alert_manager.h) has the same key both times.
// Thread-safe: every call uses its own curl handle.

#include <string>

#include "core/status.h"
#include "monitor/alert_config.h"
#include "store/alert_store.h"

namespace assay {

class Notifier {
public:
    virtual ~Notifier() = default;
    // Delivers one notification; resolved == true for the "resolved" notice.
    virtual Status send(const AlertRecord& alert, bool resolved) = 0;
};

// "assay-alert-<id>-firing" or "assay-alert-<id>-resolved": one key per
// notice of one alert of a store.
std::string alert_idempotency_key(const AlertRecord& alert, bool resolved);

// The body POSTed for `alert` in `format` (slack | json).
std::string alert_payload(const AlertRecord& alert, bool resolved, const std::string& format);

class WebhookNotifier final : public Notifier {
public:
    explicit WebhookNotifier(WebhookOptions options) : m_opts(std::move(options)) {}
    Status send(const AlertRecord& alert, bool resolved) override;

private:
    WebhookOptions m_opts;
};

}  // namespace assay
