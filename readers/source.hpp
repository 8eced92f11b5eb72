// The interface between entry readers (tar via libarchive, a directory on disk) and their consumer.
#pragma once

#include "readers/entry.hpp"
#include "util/file.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace reproimg::readers {

// Access to the current entry's content, valid only during EntryVisitor::on_entry.
class EntryData {
public:
  virtual ~EntryData() = default;
  // Set when the content lies contiguous at this offset of a seekable, uncompressed input file,
  // so it can be copied from there later instead of being spooled.
  virtual std::optional<std::uint64_t> source_offset() const { return std::nullopt; }
  // Set when the content is a file on disk that can be read later.
  virtual std::optional<std::string> disk_path() const { return std::nullopt; }
  // Streams the content (exactly entry.size bytes, holes of sparse files zero-filled, at most
  // max_fill bytes of them) into sink.
  virtual void read(util::ByteSink& sink, std::uint64_t max_fill) = 0;
};

// Content that is a file on disk, read when the layer is written (dir: sources, build contexts).
class DiskFileData : public EntryData {
public:
  explicit DiskFileData(std::string path) : m_path(std::move(path)) {}
  std::optional<std::string> disk_path() const override { return m_path; }
  void read(util::ByteSink& sink, std::uint64_t max_fill) override;

private:
  std::string m_path;
};

// No content: directories, links, devices, fifos.
class NoEntryData : public EntryData {
public:
  void read(util::ByteSink&, std::uint64_t) override {}
};

class EntryVisitor {
public:
  virtual ~EntryVisitor() = default;
  virtual void on_entry(SourceEntry& entry, EntryData& data) = 0;
  // A diagnostic the reader wants the user to see (libarchive's ARCHIVE_WARN).
  virtual void on_warning(const std::string& message) = 0;
};

} // namespace reproimg::readers
