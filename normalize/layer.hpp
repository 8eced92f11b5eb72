// Builds a canonical layer from a stream of source entries: policy applied, paths made canonical,
// duplicates resolved, sorted, hardlinks re-anchored on the first path; then writes it.
#pragma once

#include "readers/entry.hpp"
#include "normalize/policy.hpp"
#include "normalize/report.hpp"
#include "readers/source.hpp"
#include "util/error.hpp"
#include "util/progress.hpp"
#include "util/spool.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace reproimg::normalize {

// Where entry contents are kept between reading and writing.
class ContentStore {
public:
  explicit ContentStore(size_t memory_limit) : m_spool(memory_limit) {}

  util::Spool& spool() { return m_spool; }
  // The input file that ContentRef::Where::source offsets refer to.
  void set_source(int fd, std::string name)
  {
    m_source_fd = fd;
    m_source_name = std::move(name);
  }
  std::uint64_t add_disk_path(std::string path)
  {
    m_disk_paths.push_back(std::move(path));
    return m_disk_paths.size() - 1;
  }
  // Streams exactly e.size bytes of e's content; throws if the source no longer has them.
  void copy(const readers::Entry& e, util::ByteSink& sink);

private:
  util::Spool m_spool;
  int m_source_fd = -1;
  std::string m_source_name;
  std::vector<std::string> m_disk_paths;
  std::vector<unsigned char> m_buffer;
};

class LayerBuilder : public readers::EntryVisitor {
public:
  LayerBuilder(const Policy& policy, Report& report, ContentStore& store, std::string input_name);

  void on_entry(readers::SourceEntry& entry, readers::EntryData& data) override;
  void on_warning(const std::string& message) override;

  // The canonical entries, in canonical order. Call once, after the reader is done.
  std::vector<readers::Entry> finish();

private:
  struct Slot {
    readers::Entry entry;
    std::uint64_t seq = 0;
    std::uint32_t group = 0; // hardlink group + 1; 0 = none
    bool dead = false;       // replaced by a later entry with the same path
  };

  // The steps of on_entry: the canonical path (none: the entry is dropped, and the rule noted),
  // then each attribute by the policy, then the links or the contents.
  std::optional<std::string> kept_path(const readers::SourceEntry& src, const util::Location& where);
  void set_owner(const readers::SourceEntry& src, readers::Entry& e);
  void set_times(const readers::SourceEntry& src, readers::Entry& e);
  void set_xattrs(readers::SourceEntry& src, readers::Entry& e);
  void link_hardlink(const readers::SourceEntry& src, Slot& slot, const util::Location& where);
  void take_contents(const readers::SourceEntry& src, readers::EntryData& data, readers::Entry& e, const util::Location& where);
  std::uint32_t group_of(size_t slot_index);
  // Does --truncate or the whiteout rule empty a regular file at path?
  bool empties(const std::string& path) const;

  const Policy& m_policy;
  Report& m_report;
  ContentStore& m_store;
  std::string m_input_name;
  std::vector<Slot> m_slots;
  std::unordered_map<std::string, size_t> m_by_path;
  std::unordered_set<std::string> m_excluded; // excluded non-directories, for hardlinks to them
  std::vector<readers::Entry> m_groups; // the inode each hardlink group shares
  std::uint64_t m_seq = 0;
};

// Writes entries as the canonical tar stream into sink (then finishes it).
void write_canonical_layer(const std::vector<readers::Entry>& entries, ContentStore& store, util::ByteSink& sink,
                           util::Progress& progress);

} // namespace reproimg::normalize
