#include "llm/curl_transfer.h"

#include <mutex>

namespace assay {

namespace {

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<CurlTransfer*>(user);
    const std::size_t bytes = size * count;
    if (t->response.size() + bytes > t->max_bytes) {
        t->too_large = true;
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    t->response.append(data, bytes);
    return bytes;
}

}  // namespace

CURLcode global_curl_init() {
    static std::once_flag once;
    static CURLcode code = CURLE_OK;
    std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
    return code;
}

CurlTransfer::~CurlTransfer() {
    if (easy != nullptr) {
        curl_easy_cleanup(easy);
    }
}

bool prepare_post(CurlTransfer& t, const std::string& url, const std::string& body,
                  curl_slist* headers, const JudgeOptions& spec) {
    t.easy = curl_easy_init();
    if (t.easy == nullptr) {
        return false;
    }
    t.max_bytes = spec.max_response_bytes;
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(spec.timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec.connect_timeout_ms));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // No Accept-Encoding: judge replies are a few hundred bytes, so compressing
    // them saves nothing and costs CPU on both sides (bench/judge_bench: asking
    // for compressed replies halved the throughput against the fake provider,
    // which answers with brotli).
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return true;
}

AttemptResponse finished_response(const CurlTransfer& t, CURLcode code, long& connects) {
    AttemptResponse r;
    long http = 0;
    curl_off_t retry_after = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_getinfo(t.easy, CURLINFO_RETRY_AFTER, &retry_after);
    connects = 0;
    if (curl_easy_getinfo(t.easy, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK) {
        connects = 0;
    }
    if (code != CURLE_OK) {
        r.failure = t.too_large                        ? AttemptResponse::Failure::too_large
                    : code == CURLE_OPERATION_TIMEDOUT ? AttemptResponse::Failure::timeout
                                                       : AttemptResponse::Failure::transport;
        r.detail = t.errbuf[0] != '\0' ? t.errbuf : curl_easy_strerror(code);
    }
    r.http_status = static_cast<int>(http);
    r.body = t.response;
    r.retry_after_s = static_cast<std::int64_t>(retry_after);
    return r;
}

}  // namespace assay
