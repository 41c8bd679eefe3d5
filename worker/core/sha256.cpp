#include "core/sha256.h"

#include <openssl/sha.h>

namespace assay {

std::array<uint8_t, 32> sha256(std::string_view data) {
    std::array<uint8_t, 32> out{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
    return out;
}

std::string sha256_hex(std::string_view data) {
    static const char* k_hex = "0123456789abcdef";
    auto d = sha256(data);
    std::string s;
    s.reserve(64);
    for (uint8_t b : d) {
        s.push_back(k_hex[b >> 4]);
        s.push_back(k_hex[b & 15]);
    }
    return s;
}

}  // namespace assay
