// fake_provider: the FakeProvider as a standalone process, for Python and
// shell harnesses (benchmarks, end-to-end tests).
//
//   fake_provider [--port 0] [--latency-ms N] [--score N] [--script file.json]
//                 [--threads N] [--api-key KEY]
//
// Prints "listening 127.0.0.1:PORT" on stdout (flushed) once connections are
// accepted, then serves until SIGTERM or SIGINT and exits 0. Bad flags or an
// unusable script exit 2 with one message on stderr. Script it further over
// HTTP (POST /_control/script); see README.md.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "fake_provider.h"

namespace {

constexpr const char* k_usage =
    "usage: fake_provider [--port 0] [--latency-ms N] [--score N] [--script file.json]\n"
    "                     [--threads N] [--api-key KEY]\n";

int usage_error(const std::string& message) {
    std::cerr << "fake_provider: " << message << "\n" << k_usage;
    return 2;
}

bool parse_int(const std::string& text, int min_value, int& out) {
    try {
        std::size_t used = 0;
        long v = std::stol(text, &used);
        if (used != text.size() || v < min_value || v > 1000000000L) {
            return false;
        }
        out = static_cast<int>(v);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

int main(int argc, char** argv) {
    using assay::testing::FakeProvider;
    using assay::testing::FakeProviderOptions;

    FakeProviderOptions options;
    std::string script_path;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::cout << k_usage;
            return 0;
        }
        if (i + 1 >= argc) {
            return usage_error(flag + ": unknown flag or missing value");
        }
        const std::string value = argv[++i];
        int n = 0;
        if (flag == "--port") {
            if (!parse_int(value, 0, n) || n > 65535) {
                return usage_error("--port: expected 0-65535, got '" + value + "'");
            }
            options.port = n;
        } else if (flag == "--latency-ms") {
            if (!parse_int(value, 0, n)) {
                return usage_error("--latency-ms: expected a non-negative integer, got '" + value +
                                   "'");
            }
            options.default_behaviour.latency_ms = n;
        } else if (flag == "--score") {
            if (!parse_int(value, -1000000, n)) {
                return usage_error("--score: expected an integer, got '" + value + "'");
            }
            options.default_behaviour.score = n;
        } else if (flag == "--threads") {
            if (!parse_int(value, 1, n)) {
                return usage_error("--threads: expected a positive integer, got '" + value + "'");
            }
            options.threads = n;
        } else if (flag == "--api-key") {
            options.api_key = value;
        } else if (flag == "--script") {
            script_path = value;
        } else {
            return usage_error(flag + ": unknown flag");
        }
    }

    // Signals are taken synchronously by this thread: block them before any
    // server thread exists so every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    FakeProvider provider(options);
    if (!script_path.empty()) {
        std::ifstream in(script_path, std::ios::binary);
        if (!in) {
            return usage_error("--script: cannot read '" + script_path + "'");
        }
        std::stringstream text;
        text << in.rdbuf();
        nlohmann::json script;
        try {
            script = nlohmann::json::parse(text.str());
        } catch (const nlohmann::json::parse_error& e) {
            return usage_error("--script " + script_path + ": not valid JSON: " + e.what());
        }
        std::string error;
        if (!provider.apply_script(script, error)) {
            return usage_error("--script " + script_path + ": " + error);
        }
    }

    const int port = provider.start();
    if (port == 0) {
        std::cerr << "fake_provider: " << provider.error() << "\n";
        return 2;
    }
    std::cout << "listening 127.0.0.1:" << port << std::endl;

    int received = 0;
    sigwait(&signals, &received);
    provider.stop();
    return 0;
}
