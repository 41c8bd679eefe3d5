// Conformance runner for the format scorer. Every case goes through the
// scorer registry, the same path a config takes:
//
//   schema_suite draft7 <dir>          JSON-Schema-Test-Suite draft7: each
//       schema is given inline (`schema:`, via YAML) and again as a file
//       (`schema_file:`); each instance is the trace output. Exits non-zero
//       when a case outside the exclusion and expected-failure lists fails,
//       or when an expected failure passes. <dir>/optional is reported only.
//   schema_suite jsontestsuite <jsonl> JSON validity on nst/JSONTestSuite:
//       every `valid` must be accepted and every `invalid` rejected. A file
//       that does not exist is skipped (exit 77, the reason printed): it is
//       the shared data, absent from a fresh clone.
//
// A run that finds no case to check fails (exit 1): no data is never a pass.

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "support/shared_data.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using assay::ConfigBlock;
using assay::Scorer;
using assay::ScorerRegistry;
using assay::Trace;

// Whole files not run: they need documents fetched from a server.
const std::map<std::string, std::string>& excluded_files() {
    static const std::map<std::string, std::string> k_files = {
        {"refRemote.json",
         "remote $refs to http://localhost:1234 (the suite's test server); the scorer never "
         "fetches"},
    };
    return k_files;
}

// Groups not run, by "file | group description". Any group whose schema has
// a "$ref" to http://localhost:1234 is excluded too (listed in the output).
const std::map<std::string, std::string>& excluded_groups() {
    static const std::map<std::string, std::string> k_groups = {
        {"ref.json | remote ref, containing refs itself",
         "$ref to http://json-schema.org/draft-07/schema# (the draft-07 meta-schema): a remote "
         "document the "
         "scorer never fetches"},
        {"definitions.json | valid definition",
         "$ref to http://json-schema.org/draft-07/schema# (the draft-07 meta-schema): remote, "
         "never fetched"},
        {"definitions.json | invalid definition",
         "$ref to http://json-schema.org/draft-07/schema# (the draft-07 meta-schema): remote, "
         "never fetched"},
    };
    return k_groups;
}

// Cases that run but are known to fail, by "file | group | test", with why.
const std::map<std::string, std::string>& expected_failures() {
    static const std::string k_embedded_id =
        "valijson 1.0 does not index subschemas by an embedded $id: \"$ref\": \"node\" resolved "
        "against "
        "\"$id\": \"http://localhost:1234/tree\" names a subschema of the same document, but "
        "valijson treats it "
        "as remote, so the schema is rejected when the scorer is built (a config error, never a "
        "wrong verdict)";
    static const std::map<std::string, std::string> k_xfail = {
        {"ref.json | Recursive references between schemas | valid tree", k_embedded_id},
        {"ref.json | Recursive references between schemas | invalid tree", k_embedded_id},
    };
    return k_xfail;
}

// True when some "$ref" in `schema` points at the suite's remote server.
bool has_remote_ref(const json& schema) {
    std::vector<const json*> stack{&schema};
    while (!stack.empty()) {
        const json* node = stack.back();
        stack.pop_back();
        if (node->is_object()) {
            auto ref = node->find("$ref");
            if (ref != node->end() && ref->is_string() &&
                ref->get<std::string>().rfind("http://localhost:1234", 0) == 0) {
                return true;
            }
        }
        if (node->is_structured()) {
            for (const json& child : *node) {
                stack.push_back(&child);
            }
        }
    }
    return false;
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Outcome {
    bool ok = false;     // the scorer's verdict equals the expected one
    std::string detail;  // what happened
};

// Runs one instance through a built scorer; `expect_valid` is the suite's
// verdict.
Outcome run_case(const Scorer& scorer, const json& data, bool expect_valid) {
    Trace t;
    t.trace_id = "suite";
    t.output = data.dump(-1, ' ', false, json::error_handler_t::strict);
    auto r = scorer.score(t);
    if (!r.ok()) {
        return {false, "scorer error: " + r.status().to_string()};
    }
    const bool passed = r->passed.value_or(false);
    return {passed == expect_valid, r->label + ": " + r->explanation};
}

Outcome build(const YAML::Node& block_node, const std::string& base_dir,
              std::unique_ptr<Scorer>& out) {
    ConfigBlock block(block_node, "schema_suite", base_dir);
    auto made = ScorerRegistry::instance().find("format")->make(block);
    if (!made.ok()) {
        return {false, "config error: " + made.status().message()};
    }
    assay::Status fin = block.finish();
    if (!fin.ok()) {
        return {false, "config error: " + fin.message()};
    }
    out = std::move(made).value();
    return {true, ""};
}

struct Tally {
    size_t run = 0;
    size_t passed = 0;
    size_t excluded = 0;
    size_t xfail = 0;
    std::vector<std::string> failures;  // unexpected
    std::vector<std::string> xpass;     // expected failures that passed
};

void run_dir(const fs::path& dir, bool strict, Tally& tally) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().extension() == ".json") {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    const fs::path tmp =
        fs::temp_directory_path() / ("assay_schema_suite_" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    for (const fs::path& file : files) {
        const std::string fname = file.filename().string();
        json groups = json::parse(read_all(file), nullptr, false);
        if (groups.is_discarded() || !groups.is_array()) {
            tally.failures.push_back(fname + ": cannot parse the suite file");
            continue;
        }
        const bool file_excluded = excluded_files().count(fname) > 0;
        for (const json& group : groups) {
            const std::string gdesc = group.value("description", "");
            const std::string gkey = fname + " | " + gdesc;
            const bool remote = has_remote_ref(group["schema"]);
            if (file_excluded || excluded_groups().count(gkey) > 0 || remote) {
                tally.excluded += group["tests"].size();
                if (!file_excluded && remote && excluded_groups().count(gkey) == 0) {
                    std::printf("  excluded (remote ref to localhost:1234): %s\n", gkey.c_str());
                }
                continue;
            }
            // Two ways in: inline YAML `schema:` and `schema_file:`.
            YAML::Node inline_block;
            inline_block["when"] = "all";
            inline_block["schema"] = YAML::Load(group["schema"].dump());
            const fs::path schema_path = tmp / "schema.json";
            {
                std::ofstream o(schema_path, std::ios::binary | std::ios::trunc);
                o << group["schema"].dump();
            }
            YAML::Node file_block;
            file_block["when"] = "all";
            file_block["schema_file"] = "schema.json";

            std::unique_ptr<Scorer> by_inline;
            std::unique_ptr<Scorer> by_file;
            const Outcome b1 = build(inline_block, tmp.string(), by_inline);
            const Outcome b2 = build(file_block, tmp.string(), by_file);
            for (const json& test : group["tests"]) {
                const std::string key = gkey + " | " + test.value("description", "");
                const bool expect = test.value("valid", false);
                std::vector<std::string> problems;
                for (const auto& [how, built, scorer] :
                     {std::tuple{"schema", &b1, by_inline.get()},
                      std::tuple{"schema_file", &b2, by_file.get()}}) {
                    if (!built->ok) {
                        problems.push_back(std::string(how) + ": " + built->detail);
                        continue;
                    }
                    Outcome o = run_case(*scorer, test["data"], expect);
                    if (!o.ok) {
                        problems.push_back(std::string(how) + ": expected " +
                                           (expect ? "valid" : "invalid") + ", got " + o.detail);
                    }
                }
                ++tally.run;
                const bool xfail = strict && expected_failures().count(key) > 0;
                if (problems.empty()) {
                    ++tally.passed;
                    if (xfail) {
                        tally.xpass.push_back(key);
                    }
                } else if (xfail) {
                    ++tally.xfail;
                } else {
                    std::string line = key;
                    for (const std::string& p : problems) {
                        line += "\n      " + p;
                    }
                    tally.failures.push_back(line);
                }
            }
        }
    }
    fs::remove_all(tmp);
}

void print_tally(const char* name, const Tally& t) {
    const double rate =
        t.run == 0 ? 0.0 : 100.0 * static_cast<double>(t.passed) / static_cast<double>(t.run);
    std::printf("%s: %zu/%zu cases pass (%.1f%%), %zu excluded, %zu expected failures\n", name,
                t.passed, t.run, rate, t.excluded, t.xfail);
    for (const std::string& f : t.failures) {
        std::printf("  FAIL %s\n", f.c_str());
    }
    for (const std::string& x : t.xpass) {
        std::printf("  XPASS (remove from the expected-failure list) %s\n", x.c_str());
    }
}

int run_draft7(const fs::path& dir) {
    std::printf("Exclusions:\n");
    for (const auto& [f, why] : excluded_files()) {
        std::printf("  file %s: %s\n", f.c_str(), why.c_str());
    }
    for (const auto& [g, why] : excluded_groups()) {
        std::printf("  group %s: %s\n", g.c_str(), why.c_str());
    }
    std::printf("Expected failures:%s\n", expected_failures().empty() ? " none" : "");
    for (const auto& [c, why] : expected_failures()) {
        std::printf("  %s: %s\n", c.c_str(), why.c_str());
    }
    if (!fs::is_directory(dir)) {
        std::printf(
            "FAIL draft7: %s is not a folder (ci/install-deps.sh installs "
            "json-schema-test-suite)\n",
            dir.string().c_str());
        return 1;
    }
    Tally required;
    run_dir(dir, /*strict=*/true, required);
    print_tally("draft7 (required)", required);
    if (required.run == 0) {
        std::printf("FAIL draft7: no case found in %s: nothing was checked\n",
                    dir.string().c_str());
        return 1;
    }
    if (fs::is_directory(dir / "optional")) {
        Tally optional;
        run_dir(dir / "optional", /*strict=*/false, optional);
        if (fs::is_directory(dir / "optional" / "format")) {
            run_dir(dir / "optional" / "format", /*strict=*/false, optional);
        }
        print_tally("draft7 optional (informational, never fails the run)", optional);
    }
    return required.failures.empty() && required.xpass.empty() ? 0 : 1;
}

std::string base64_decode(const std::string& in) {
    static const std::string k_alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') {
            break;
        }
        const size_t v = k_alphabet.find(c);
        if (v == std::string::npos) {
            continue;
        }
        buf = (buf << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buf >> bits) & 0xFF));
        }
    }
    return out;
}

int run_jsontestsuite(const fs::path& file) {
    if (!fs::exists(file)) {
        std::printf("%s\n", assay::testing::shared_data_missing(file.string()).c_str());
        return assay::testing::k_exit_skipped;
    }
    YAML::Node cfg = YAML::Load("{json: true, when: all}");
    std::unique_ptr<Scorer> scorer;
    Outcome b = build(cfg, ".", scorer);
    if (!b.ok) {
        std::printf("%s\n", b.detail.c_str());
        return 1;
    }
    std::ifstream in(file);
    if (!in) {
        std::printf("FAIL cannot read %s\n", file.string().c_str());
        return 1;
    }
    std::string line;
    // Positive class: "invalid" (what the JSON check exists to flag).
    size_t tp = 0;
    size_t fp = 0;
    size_t fn = 0;
    size_t tn = 0;
    std::vector<std::string> wrong;
    std::vector<std::string> impl;
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        json row = json::parse(line, nullptr, false);
        if (row.is_discarded()) {
            std::printf("unreadable line\n");
            return 1;
        }
        Trace t;
        t.trace_id = row.value("id", "");
        t.output = base64_decode(row.value("output_b64", ""));
        auto r = scorer->score(t);
        if (!r.ok()) {
            wrong.push_back(t.trace_id + ": scorer error " + r.status().to_string());
            continue;
        }
        const bool rejected = !r->passed.value_or(false);
        const std::string label = row.value("label", "");
        if (label == "invalid") {
            (rejected ? tp : fn)++;
            if (!rejected) {
                wrong.push_back(t.trace_id + " (invalid) accepted: " + r->explanation);
            }
        } else if (label == "valid") {
            (rejected ? fp : tn)++;
            if (rejected) {
                wrong.push_back(t.trace_id + " (valid) rejected: " + r->explanation);
            }
        } else {
            impl.push_back(t.trace_id + ": " + (rejected ? "rejected" : "accepted") + " (" +
                           r->explanation + ")");
        }
    }
    const auto ratio = [](size_t num, size_t den) {
        return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
    };
    const double precision = ratio(tp, tp + fp);
    const double recall = ratio(tp, tp + fn);
    const double f1 = precision + recall == 0 ? 0.0 : 2 * precision * recall / (precision + recall);
    std::printf("jsontestsuite: valid accepted %zu/%zu, invalid rejected %zu/%zu\n", tn, tn + fp,
                tp, tp + fn);
    std::printf(
        "  positive class 'invalid': precision %.3f recall %.3f F1 %.3f (tp %zu fp %zu fn %zu tn "
        "%zu)\n",
        precision, recall, f1, tp, fp, fn, tn);
    for (const std::string& i : impl) {
        std::printf("  implementation-defined %s\n", i.c_str());
    }
    for (const std::string& w : wrong) {
        std::printf("  WRONG %s\n", w.c_str());
    }
    if (tp + fn == 0 || tn + fp == 0) {
        std::printf("FAIL %s holds no %s case: nothing was checked\n", file.string().c_str(),
                    tp + fn == 0 ? "'invalid'" : "'valid'");
        return 1;
    }
    return wrong.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(
            stderr, "usage: schema_suite draft7 <dir> | schema_suite jsontestsuite <file.jsonl>\n");
        return 2;
    }
    const std::string mode = argv[1];
    try {
        if (mode == "draft7") {
            return run_draft7(argv[2]);
        }
        if (mode == "jsontestsuite") {
            return run_jsontestsuite(argv[2]);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "schema_suite: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "unknown mode '%s'\n", mode.c_str());
    return 2;
}
