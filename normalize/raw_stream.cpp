// One pass over a (compressed) layer: hash the stored bytes and the decompressed bytes.
#include "normalize/raw_stream.hpp"

#include "digest/background_sha256.hpp"
#include "digest/sha256.hpp"
#include "normalize/archive_input.hpp"
#include "util/error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <memory>

namespace reproimg::normalize {

namespace {
StreamDigests digest_input(int fd, const std::string& name, util::ByteSink* decompressed, bool ranged,
                           std::uint64_t range_offset, std::uint64_t range_length);
} // namespace

StreamDigests digest_stream(int fd, const std::string& name, util::ByteSink* decompressed)
{
  return digest_input(fd, name, decompressed, false, 0, 0);
}

StreamDigests digest_stream_range(int fd, const std::string& name, std::uint64_t offset, std::uint64_t length,
                                  util::ByteSink* decompressed)
{
  return digest_input(fd, name, decompressed, true, offset, length);
}

namespace {

StreamDigests digest_input(int fd, const std::string& name, util::ByteSink* decompressed, bool ranged,
                           std::uint64_t range_offset, std::uint64_t range_length)
{
  ArchiveReader holder(new_restricted_reader(false));
  archive* a = holder.get();
  digest::Sha256 blob_hash;
  ArchiveInput in(fd, false, name, &blob_hash);
  if (ranged) {
    in.set_range(range_offset, range_length);
  }
  auto fail = [&](const char* what) {
    in.rethrow_read_error();
    throw util::Error(util::Location{name, std::nullopt, archive_filter_bytes(a, -1)},
                      std::string(what) + ": " + archive_message(a));
  };
  in.open(a, false);
  StreamDigests out;
  // The decompressed stream is hashed on a thread of its own while this one decompresses.
  digest::BackgroundHashingSink tar_hash;
  archive_entry* e = nullptr;
  const int rc = archive_read_next_header(a, &e);
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN && rc != ARCHIVE_EOF) {
    fail("cannot decompress");
  }
  out.compression = in.compression();
  // Uncompressed: the diff_id is the blob digest; hash once.
  const bool same = out.compression == "none";
  if (rc != ARCHIVE_EOF) {
    for (;;) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      const int r = archive_read_data_block(a, &buf, &size, &offset);
      if (r == ARCHIVE_EOF) {
        break;
      }
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        fail("cannot decompress");
      }
      if (!same) {
        tar_hash.write(buf, size);
      }
      if (decompressed) {
        decompressed->write(buf, size);
      }
      out.tar_size += size;
    }
  }
  // Whatever libarchive did not need (trailing bytes after a compressed stream) is still part
  // of the blob.
  in.drain();
  out.blob_digest = blob_hash.finish_digest();
  out.blob_size = in.raw_bytes();
  out.diff_id = same ? out.blob_digest : tar_hash.digest();
  return out;
}

} // namespace

} // namespace reproimg::normalize
