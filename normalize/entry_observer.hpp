// Seeing every entry of a layer as normalize_layer reads it, with its content's sha256, in the
// same pass as the canonical diff_id (verify and lock: one read of each layer for both).
#pragma once

#include "readers/entry.hpp"
#include "readers/source.hpp"

#include <cstdint>
#include <string>

namespace reproimg::normalize {

class EntryObserver {
public:
  virtual ~EntryObserver() = default;
  // entry as read (before the policy); content_sha256 is "sha256:..." of a regular file's bytes
  // (of no bytes for an empty one), empty for the other types.
  virtual void on_entry(const readers::SourceEntry& entry, const std::string& content_sha256) = 0;
  // false: content_sha256 is left empty (the entries alone are wanted, no bytes hashed).
  virtual bool wants_contents() const { return true; }
  // How many leading bytes of a regular file's content the observer wants to see (0: none); they
  // are given to on_content before on_entry, from the same read as the builder's.
  virtual std::uint64_t content_wanted(const readers::SourceEntry&) const { return 0; }
  // bytes: the first content_wanted(entry) bytes (all of them when the file is shorter).
  virtual void on_content(const readers::SourceEntry&, const std::string& /*bytes*/) {}
};

// Passes every entry to next (the layer builder), then to the observer with the content's digest:
// bytes the builder streams are hashed on the way, bytes it leaves in place (an offset of the
// input, a file on disk) are read from there, bytes it skips are read here.
class ObservingVisitor : public readers::EntryVisitor {
public:
  // input_fd, input_name: the input that EntryData::source_offset() offsets refer to (-1: none).
  ObservingVisitor(readers::EntryVisitor& next, EntryObserver& observer, int input_fd, std::string input_name,
                   std::uint64_t max_sparse_fill)
      : m_next(next), m_observer(observer), m_fd(input_fd), m_name(std::move(input_name)), m_max_fill(max_sparse_fill)
  {
  }

  void on_entry(readers::SourceEntry& entry, readers::EntryData& data) override;
  void on_warning(const std::string& message) override { m_next.on_warning(message); }

private:
  std::string leading_bytes(const readers::SourceEntry& seen, readers::EntryData& data, std::uint64_t want);

  readers::EntryVisitor& m_next;
  EntryObserver& m_observer;
  int m_fd;
  std::string m_name;
  std::uint64_t m_max_fill;
};

} // namespace reproimg::normalize
