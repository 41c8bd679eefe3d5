#include "cli/output.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "core/text_table.h"
#include "core/time_format.h"

namespace assay::cli {

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::cout << format_table(rows);
}

namespace {

// %v, JSON-escaped, for log.format: json.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        std::string s = nlohmann::json(std::string(msg.payload.data(), msg.payload.size()))
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(s.data(), s.data() + s.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonMessageFlag>();
    }
};

}  // namespace

void setup_logging(const LogOptions& options) {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    for (const char* name : {"ingest", "store", "pipeline", "judge", "cli", "monitor", "review"}) {
        if (spdlog::get(name)) {
            continue;
        }
        auto logger = std::make_shared<spdlog::logger>(name, sink);
        spdlog::register_logger(logger);
    }
    spdlog::set_level(spdlog::level::from_str(options.level));
    if (options.format == "json") {
        auto f = std::make_unique<spdlog::pattern_formatter>();
        f->add_flag<JsonMessageFlag>('*').set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":%*})");
        spdlog::set_formatter(std::move(f));
    } else {
        spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
    }
}

Result<int64_t> parse_since(const std::string& s, int64_t now) {
    if (s.size() >= 2) {
        char unit = s.back();
        std::string num = s.substr(0, s.size() - 1);
        bool digits = !num.empty() && num.find_first_not_of("0123456789") == std::string::npos;
        if (digits) {
            int64_t n = std::stoll(num);
            int64_t mult = unit == 'd' ? 86400000 : unit == 'h' ? 3600000 : unit == 'm' ? 60000 : 0;
            if (mult > 0) {
                return now - n * mult;
            }
        }
    }
    auto t = parse_rfc3339_ms(s);
    if (t.ok()) {
        return t;
    }
    return Status::invalid_argument("--since '" + s +
                                    "': expected a duration like 7d, 12h, 30m or an RFC 3339 time");
}

std::string fmt_double(double v, int precision) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    return buf;
}

}  // namespace assay::cli
