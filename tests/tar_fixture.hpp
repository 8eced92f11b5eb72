// Small tar files for the unit suites: regular files with the given contents, in ustar format,
// written with libarchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace reproimg::test {

inline void write_tar(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files)
{
  archive* a = archive_write_new();
  archive_write_set_format_ustar(a);
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    archive_write_free(a);
    throw std::runtime_error("cannot write " + path);
  }
  for (const auto& [name, content] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_write_header(a, e);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  const bool ok = archive_write_close(a) == ARCHIVE_OK;
  archive_write_free(a);
  if (!ok) {
    throw std::runtime_error("cannot finish " + path);
  }
}

} // namespace reproimg::test
