// The entry index diff works on: path -> metadata and a handle on the content, memory O(entries).
// Contents are not kept: a seekable uncompressed tar (or a tar member of an image archive) is read
// again by offset, a rootfs file from disk; only contents of compressed or piped layers are hashed
// while the index is built.
#pragma once

#include "readers/entry.hpp"
#include "normalize/pipeline.hpp"
#include "readers/raw_stream.hpp"
#include "readers/tar_reader.hpp"
#include "util/file.hpp"
#include "util/progress.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::diff {

class LayerIndex;

// Keeps the first bytes written to it (a tar stream's first header, to tell its dialect).
class FirstBytes : public util::ByteSink {
public:
  void write(const void* data, size_t n) override
  {
    const size_t take = std::min(n, sizeof m_bytes - m_used);
    std::memcpy(m_bytes + m_used, data, take);
    m_used += take;
  }
  const unsigned char* data() const { return m_bytes; }
  size_t size() const { return m_used; }

private:
  unsigned char m_bytes[512] = {};
  size_t m_used = 0;
};

struct ContentHandle {
  // digest_only: the sha256 alone is known (a lock's record): contents are equal iff the digests
  // are, and there are no bytes to show.
  enum class Kind : std::uint8_t { none, range, disk, hashed, digest_only };
  Kind kind = Kind::none;
  std::uint64_t offset = 0;  // range: where the bytes are in the layer's file
  std::string disk_path;     // disk
  mutable std::string sha256; // hashed (also filled lazily for the others)
  const LayerIndex* layer = nullptr;
  std::uint64_t ordinal = 0; // the entry's number in its layer, to read it again
};

struct FileRecord {
  std::string path; // canonical (an unsafe path is kept as stored)
  readers::EntryType type = readers::EntryType::regular;
  std::uint32_t mode = 0;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string uname;
  std::string gname;
  std::int64_t mtime = 0;
  long mtime_nsec = 0;
  std::optional<std::int64_t> atime; // pax/GNU atime record
  std::optional<std::int64_t> ctime;
  std::uint64_t size = 0;
  std::string link_target; // symlink target verbatim; hardlink target canonical
  std::uint32_t devmajor = 0;
  std::uint32_t devminor = 0;
  readers::Xattrs xattrs; // sorted by name
  bool sparse = false;
  std::uint64_t position = 0; // order in its layer (of the occurrence kept)
  int layer_number = 0;       // which layer of an image it came from
  ContentHandle content;
};

// A record of an entry as read: its canonical path (an unsafe or odd path as stored) and every
// attribute; no content reference. nullopt for the root entry ("./"), which a rootfs does not keep.
std::optional<FileRecord> record_of_entry(const readers::SourceEntry& e, int layer_number);

// One layer (or a rootfs directory) read into records.
class LayerIndex {
public:
  // Reads the source. number is the layer's index in its image (0 for a lone layer).
  // progress, if set, counts what is read (it may be shared by two reads side by side).
  static std::unique_ptr<LayerIndex> read(const readers::LayerSource& source, int number,
                                          util::Progress* progress = nullptr);

  const std::string& name() const { return m_name; }
  const readers::LayerSource& source() const { return m_source; }
  const std::string& compression() const { return m_compression; }
  // How the tar stream ended (a Go-style ending is read, and reported as tar-encoding).
  readers::TarEnding ending() const { return m_ending; }
  // A blob checked as it was read (an image's layer) was hashed on the way: its identities, and the
  // first bytes of its tar stream. None for a plain tar or a directory.
  const std::optional<readers::StreamDigests>& digests() const { return m_digests; }
  const FirstBytes& tar_head() const { return m_tar_head; }
  bool is_directory() const { return m_source.kind == readers::LayerSource::Kind::directory; }
  int fd() const { return m_fd.get(); }
  // Reads the layer again, once, keeping up to max_bytes of each listed entry's content
  // (hashed records only: the others are read directly).
  void keep_contents(const std::vector<std::uint64_t>& ordinals, std::uint64_t max_bytes) const;
  const std::string* kept_content(std::uint64_t ordinal) const;

  // Records in stored order; a path stored twice keeps its last occurrence (what extraction does).
  std::vector<FileRecord> records;
  std::uint64_t duplicates = 0;
  std::vector<std::string> warnings; // what the reader warned about (kept for the report's notes)

private:
  readers::LayerSource m_source;
  std::string m_name;
  std::string m_compression;
  readers::TarEnding m_ending = readers::TarEnding::end_blocks;
  std::optional<readers::StreamDigests> m_digests;
  FirstBytes m_tar_head;
  util::Fd m_fd; // the opened file (seekable inputs), or a temp copy of stdin
  mutable std::map<std::uint64_t, std::string> m_kept;
};

// A file tree to compare: one layer in stored order, or the flattened filesystem of an image.
struct Tree {
  std::string label;      // for messages
  bool ordered = false;   // records are in stored order (a layer), so order can be compared
  std::vector<const FileRecord*> records;       // stored order, or path order when flattened
  std::map<std::string, const FileRecord*> by_path;
  std::vector<std::unique_ptr<FileRecord>> owned; // records flattening made (hardlinks given their data)
};

Tree tree_of_layer(const LayerIndex& layer, const std::string& label);
// Applies layers bottom up through the image overlay (image/overlay.hpp): whiteouts, opaque
// markers, replaced directories, hardlinks whose data's path went away.
Tree flatten(const std::vector<std::unique_ptr<LayerIndex>>& layers, const std::string& label);

// Contents: compare without hashing where both sides can be read again; bytes for reports.
struct ContentComparison {
  bool equal = true;
  std::optional<std::uint64_t> first_difference; // known when compared byte by byte
};
ContentComparison compare_content(const FileRecord& a, const FileRecord& b);
// The sha256 of a record's content ("sha256:..."), computed on first use.
const std::string& content_digest(const FileRecord& r);
// Up to max_bytes of the content (nullopt if it cannot be read again, e.g. a piped layer).
std::optional<std::string> read_content(const FileRecord& r, std::uint64_t max_bytes);

} // namespace reproimg::diff
