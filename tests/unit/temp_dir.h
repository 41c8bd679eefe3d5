#pragma once
// A fresh directory under /tmp, removed with everything in it on destruction.

#include <unistd.h>

#include <filesystem>
#include <string>

namespace assay::testing {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "assay-test-XXXXXX").string();
        m_path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    std::string file(const std::string& name) const {
        return (std::filesystem::path(m_path) / name).string();
    }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

}  // namespace assay::testing
