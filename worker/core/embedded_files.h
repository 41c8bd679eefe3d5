#pragma once
// Data files compiled into the binary (refusal patterns, ...), keyed
// "<scorer>/<relative path>". Filled at static-initialisation time; reads
// after main() starts are thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assay {

bool register_embedded_file(std::string_view key, std::string_view bytes);
// nullopt when no file was embedded under `key`.
std::optional<std::string_view> embedded_file(std::string_view key);
// Keys that start with `prefix`, sorted.
std::vector<std::string> embedded_files_under(std::string_view prefix);

}  // namespace assay
