#include "core/status.h"

namespace assay {

const char* to_string(StatusCode code) {
    switch (code) {
        case StatusCode::ok:
            return "ok";
        case StatusCode::invalid_argument:
            return "invalid_argument";
        case StatusCode::limit_exceeded:
            return "limit_exceeded";
        case StatusCode::not_found:
            return "not_found";
        case StatusCode::io_error:
            return "io_error";
        case StatusCode::missing_input:
            return "missing_input";
        case StatusCode::not_applicable:
            return "not_applicable";
        case StatusCode::unavailable:
            return "unavailable";
        case StatusCode::internal:
            return "internal";
    }
    return "unknown";
}

std::string Status::to_string() const {
    if (ok()) {
        return "ok";
    }
    return std::string(assay::to_string(m_code)) + ": " + m_message;
}

}  // namespace assay
