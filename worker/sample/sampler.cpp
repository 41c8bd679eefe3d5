#include "sample/sampler.h"

#include <openssl/evp.h>

#include <string>

namespace assay {

uint64_t sample_hash(std::string_view trace_id, std::string_view salt) {
    // Fetched once: avoids a provider lookup per trace. EVP_MD is immutable
    // and safe to share between threads.
    static EVP_MD* const k_md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (salt.empty()) {
        EVP_Digest(trace_id.data(), trace_id.size(), d, &len, k_md, nullptr);
    } else {
        std::string key;
        key.reserve(salt.size() + 1 + trace_id.size());
        key.append(salt).append(":").append(trace_id);
        EVP_Digest(key.data(), key.size(), d, &len, k_md, nullptr);
    }
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) {
        x = (x << 8) | d[i];
    }
    return x;
}

double sample_u(std::string_view trace_id, std::string_view salt) {
    // Converting to double rounds to nearest; dividing by 2^64 is exact, so
    // this equals Python's correctly rounded int / 2**64.
    return static_cast<double>(sample_hash(trace_id, salt)) / 18446744073709551616.0;
}

bool is_sampled(std::string_view trace_id, std::string_view salt, double rate) {
    if (rate >= 1.0) {
        return true;
    }
    if (rate <= 0.0) {
        return false;
    }
    return sample_u(trace_id, salt) < rate;
}

}  // namespace assay
