// One pass over a (compressed) layer: hash the stored bytes and the decompressed bytes.
#include "normalize/raw_stream.hpp"

#include "digest/sha256.hpp"
#include "normalize/tar_reader.hpp"
#include "util/error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <memory>
#include <unistd.h>
#include <vector>

namespace reproimg::normalize {

namespace {

struct HashingInput {
  int fd;
  std::vector<unsigned char> buffer;
  digest::Sha256 hash;
  std::uint64_t bytes = 0;
  int saved_errno = 0;

  static la_ssize_t read(archive*, void* self, const void** out)
  {
    auto* h = static_cast<HashingInput*>(self);
    for (;;) {
      const ssize_t n = ::read(h->fd, h->buffer.data(), h->buffer.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        h->saved_errno = errno;
        return -1;
      }
      h->hash.update(h->buffer.data(), static_cast<size_t>(n));
      h->bytes += static_cast<std::uint64_t>(n);
      *out = h->buffer.data();
      return n;
    }
  }
};

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

} // namespace

StreamDigests digest_stream(int fd, const std::string& name)
{
  std::unique_ptr<archive, ArchiveDeleter> holder(new_restricted_reader(false));
  archive* a = holder.get();
  HashingInput in{fd, std::vector<unsigned char>(1 << 20), digest::Sha256(), 0, 0};
  archive_read_set_read_callback(a, &HashingInput::read);
  archive_read_set_callback_data(a, &in);
  auto fail = [&](const char* what) {
    if (in.saved_errno) {
      errno = in.saved_errno;
      util::throw_errno("cannot read", name);
    }
    const char* s = archive_error_string(a);
    throw util::Error(util::Location{name, std::nullopt, archive_filter_bytes(a, -1)},
                      std::string(what) + (s ? std::string(": ") + s : std::string()));
  };
  if (archive_read_open1(a) != ARCHIVE_OK) {
    fail("cannot open as a layer");
  }
  StreamDigests out;
  digest::Sha256 tar_hash;
  archive_entry* e = nullptr;
  const int rc = archive_read_next_header(a, &e);
  if (rc < ARCHIVE_WARN) {
    fail("cannot decompress");
  }
  out.compression = archive_filter_count(a) > 1 ? archive_filter_name(a, 0) : "none";
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
      if (r < ARCHIVE_WARN) {
        fail("cannot decompress");
      }
      if (!same) {
        tar_hash.update(buf, size);
      }
      out.tar_size += size;
    }
  }
  // Whatever libarchive did not need (trailing bytes after a compressed stream) is still part
  // of the blob.
  for (;;) {
    const void* ignored = nullptr;
    if (HashingInput::read(a, &in, &ignored) <= 0) {
      break;
    }
  }
  if (in.saved_errno) {
    errno = in.saved_errno;
    util::throw_errno("cannot read", name);
  }
  out.blob_digest = in.hash.finish_digest();
  out.blob_size = in.bytes;
  out.diff_id = same ? out.blob_digest : tar_hash.finish_digest();
  return out;
}

} // namespace reproimg::normalize
