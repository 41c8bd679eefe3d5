#pragma once
// Status and Result<T>: the error currency at every module boundary.
// A Status is either OK or carries a code and a human-readable message that
// names the problem (field, line, limit). Result<T> holds a T or a non-OK
// Status. Both are plain values: cheap to move, safe to copy, not shared.
// Both are [[nodiscard]]: a caller that means to ignore one says so with
// a (void) cast.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace assay {

enum class StatusCode {
    ok,
    invalid_argument,  // bad input or configuration
    limit_exceeded,    // a size/depth/count limit was hit
    not_found,
    io_error,
    missing_input,   // a scorer lacks an input it needs: recorded as skipped
    not_applicable,  // a scorer does not apply to this trace: recorded as filtered out
    unavailable,     // a dependency is temporarily unavailable; retrying may help
    internal,        // a bug
};

const char* to_string(StatusCode code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

    static Status ok_status() { return {}; }
    static Status invalid_argument(std::string m) {
        return {StatusCode::invalid_argument, std::move(m)};
    }
    static Status limit_exceeded(std::string m) {
        return {StatusCode::limit_exceeded, std::move(m)};
    }
    static Status not_found(std::string m) { return {StatusCode::not_found, std::move(m)}; }
    static Status io_error(std::string m) { return {StatusCode::io_error, std::move(m)}; }
    static Status missing_input(std::string m) { return {StatusCode::missing_input, std::move(m)}; }
    static Status not_applicable(std::string m) {
        return {StatusCode::not_applicable, std::move(m)};
    }
    static Status unavailable(std::string m) { return {StatusCode::unavailable, std::move(m)}; }
    static Status internal(std::string m) { return {StatusCode::internal, std::move(m)}; }

    bool ok() const { return m_code == StatusCode::ok; }
    StatusCode code() const { return m_code; }
    const std::string& message() const { return m_message; }
    // "invalid_argument: <message>", or "ok".
    std::string to_string() const;

private:
    StatusCode m_code = StatusCode::ok;
    std::string m_message;
};

// Result<T>: a T on success, a non-OK Status on failure. Accessing value()
// (or * and ->) of a failed Result is a bug: the process prints the Status
// and aborts, in every build type.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}         // NOLINT: implicit by design
    Result(Status status) : m_v(std::move(status)) {}  // NOLINT: implicit by design

    bool ok() const { return std::holds_alternative<T>(m_v); }
    const Status& status() const {
        static const Status k_ok;
        return ok() ? k_ok : std::get<Status>(m_v);
    }
    T& value() & {
        check();
        return *std::get_if<T>(&m_v);
    }
    const T& value() const& {
        check();
        return *std::get_if<T>(&m_v);
    }
    T&& value() && {
        check();
        return std::move(*std::get_if<T>(&m_v));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    void check() const {
        if (!ok()) {
            std::fprintf(stderr, "assay: bug: value() of a failed Result: %s\n",
                         std::get<Status>(m_v).to_string().c_str());
            std::abort();
        }
    }

    std::variant<T, Status> m_v;
};

}  // namespace assay

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define ASSAY_RETURN_IF_ERROR(expr)             \
    do {                                        \
        ::assay::Status assay_status_ = (expr); \
        if (!assay_status_.ok()) {              \
            return assay_status_;               \
        }                                       \
    } while (0)
