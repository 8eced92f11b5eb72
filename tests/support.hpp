// Helpers shared by the unit suites: a private temporary directory and an in-memory byte sink.
#pragma once

#include "util/file.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cstdlib>
#include <sys/stat.h>

namespace reproimg::test {

// A fresh directory under the temp directory, removed with everything in it at the end.
class TempDir {
public:
  TempDir()
  {
    std::string templ = util::temp_directory() + "/reproimg-test.XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
      throw std::runtime_error("cannot create a temporary directory from " + templ);
    }
    m_path = buf.data();
  }
  ~TempDir()
  {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }
  std::string file(const std::string& name) const { return m_path + "/" + name; }

  // The names in the directory, sorted.
  std::vector<std::string> list() const
  {
    std::vector<std::string> names;
    for (const auto& de : std::filesystem::directory_iterator(m_path)) {
      names.push_back(de.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  std::string m_path;
};

// Collects everything written to it; counts finish() calls.
class StringSink : public util::ByteSink {
public:
  void write(const void* data, size_t size) override { bytes.append(static_cast<const char*>(data), size); }
  void finish() override { ++finished; }
  std::string bytes;
  int finished = 0;
};

inline bool exists(const std::string& path)
{
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Sets an environment variable (or unsets it: nullptr, nullopt) for the life of the object.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : m_name(name)
  {
    if (const char* old = std::getenv(name)) m_old = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ScopedEnv(const char* name, const std::optional<std::string>& value) : ScopedEnv(name, value ? value->c_str() : nullptr)
  {
  }
  ~ScopedEnv()
  {
    if (m_old) {
      ::setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  std::string m_name;
  std::optional<std::string> m_old;
};

} // namespace reproimg::test
