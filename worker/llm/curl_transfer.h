#pragma once
// One HTTP POST of a judge request as a libcurl easy handle, for the
// client's multi loop (judge_client.cpp): the handle's options (timeouts,
// HTTP/2 when offered, keep-alive, a response size cap) and, once libcurl
// reports it done, what came back as a transport-neutral AttemptResponse
// (attempt_outcome.h). Not thread-safe: a transfer belongs to the loop thread.

#include <curl/curl.h>

#include <cstddef>
#include <string>

#include "llm/attempt_outcome.h"

namespace assay {

// curl_global_init, once per process (thread-safe).
CURLcode global_curl_init();

struct CurlTransfer {
    CURL* easy = nullptr;  // owned once prepare_post succeeded
    std::string response;  // the body received so far
    std::size_t max_bytes = 0;
    bool too_large = false;  // the body went over max_bytes: the transfer was aborted
    char errbuf[CURL_ERROR_SIZE] = {};

    CurlTransfer() = default;
    CurlTransfer(const CurlTransfer&) = delete;
    CurlTransfer& operator=(const CurlTransfer&) = delete;
    ~CurlTransfer();  // curl_easy_cleanup (remove it from any multi handle first)
};

// Creates the easy handle of a POST of `body` (not copied: it must outlive
// the transfer) to `url` with `headers` (shared, not owned), the spec's
// timeouts and max_response_bytes. `t` must not move while the transfer
// runs (the handle points at it). false when curl_easy_init fails.
bool prepare_post(CurlTransfer& t, const std::string& url, const std::string& body,
                  curl_slist* headers, const JudgeOptions& spec);

// What a finished transfer came to (`code`: libcurl's result); its status,
// Retry-After and body. The body view points into `t.response`. `connects`
// gets the number of new connections it opened.
AttemptResponse finished_response(const CurlTransfer& t, CURLcode code, long& connects);

}  // namespace assay
