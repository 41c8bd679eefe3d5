// `assay sample`: print u(trace_id) and the sampling decision for ids.
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "sample/sampler.h"

namespace assay::cli {

namespace {

struct SampleArgs {
    double rate = 0;
    std::string salt;
    std::vector<std::string> ids;
};

int run_sample(const SampleArgs& a) {
    auto print = [&](const std::string& id) {
        double u = sample_u(id, a.salt);
        std::printf("%s\t%.17g\t%s\n", id.c_str(), u,
                    is_sampled(id, a.salt, a.rate) ? "sampled" : "skipped");
    };
    if (a.ids.empty() || (a.ids.size() == 1 && a.ids[0] == "-")) {
        std::string line;
        while (std::getline(std::cin, line)) {
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            if (!line.empty()) {
                print(line);
            }
        }
        return 0;
    }
    for (const auto& id : a.ids) {
        print(id);
    }
    return 0;
}

}  // namespace

void add_sample_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<SampleArgs>();
    CLI::App* c = app.add_subcommand(
        "sample",
        "Show u(trace_id) and whether each id is sampled at a rate (ids from args, or stdin)");
    c->add_option("--rate,-r", a->rate, "Sample rate in [0, 1]")
        ->required()
        ->check(CLI::Range(0.0, 1.0));
    c->add_option("--salt", a->salt, "Sampler salt (key = salt + ':' + id)");
    c->add_option("ids", a->ids, "Trace ids; none or - reads one per line from stdin");
    c->callback([a, &run] { run = [a] { return run_sample(*a); }; });
}

}  // namespace assay::cli
