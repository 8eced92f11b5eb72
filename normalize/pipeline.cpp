// The normalisation pipeline for one layer.
#include "normalize/pipeline.hpp"

#include "digest/background_sha256.hpp"
#include "readers/dir_reader.hpp"
#include "normalize/entry_observer.hpp"
#include "normalize/layer.hpp"
#include "normalize/compress.hpp"
#include "normalize/known_answer.hpp"
#include "normalize/layer_output.hpp"
#include "readers/tar_reader.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <vector>

namespace reproimg::normalize {

namespace {

// Hashes the canonical stream, except while it repeats the input: then it only compares the two,
// and hashes the common prefix (read back from the input) when they part.
class InputComparingHasher : public util::ByteSink {
public:
  InputComparingHasher(int fd, std::uint64_t input_size, std::string name)
      : m_fd(fd), m_input_size(input_size), m_name(std::move(name))
  {
  }

  void write(const void* data, size_t size) override
  {
    if (m_same) {
      if (size <= m_input_size - m_pos && matches(static_cast<const unsigned char*>(data), size)) {
        m_pos += size;
        return;
      }
      part();
    }
    m_hash.write(data, size);
  }

  // Once the streams have parted, the hasher's buffers are lent out (a pread fills them in place).
  std::span<unsigned char> lend() override { return m_same ? std::span<unsigned char>() : m_hash.lend(); }
  void write_lent(size_t size) override { m_hash.write_lent(size); }

  // Every byte written was the input's, and the input has no more.
  bool same_as_input() const { return m_same && m_pos == m_input_size; }

  std::string digest()
  {
    if (m_same) {
      part(); // a canonical stream that is a proper prefix of the input
    }
    return m_hash.digest();
  }

private:
  bool matches(const unsigned char* data, size_t size)
  {
    if (m_buffer.empty()) {
      m_buffer.resize(1 << 20);
    }
    for (size_t done = 0; done < size;) {
      const size_t n = std::min(size - done, m_buffer.size());
      util::pread_exact(m_fd, m_buffer.data(), n, m_pos + done, m_name);
      if (std::memcmp(m_buffer.data(), data + done, n) != 0) {
        return false;
      }
      done += n;
    }
    return true;
  }

  void part()
  {
    m_same = false;
    for (std::uint64_t done = 0; done < m_pos;) {
      const std::span<unsigned char> room = m_hash.lend();
      const size_t n = static_cast<size_t>(std::min<std::uint64_t>(m_pos - done, room.size()));
      util::pread_exact(m_fd, room.data(), n, done, m_name);
      m_hash.write_lent(n);
      done += n;
    }
  }

  int m_fd;
  std::uint64_t m_input_size;
  std::string m_name;
  bool m_same = true;
  std::uint64_t m_pos = 0; // bytes written so far, while m_same
  digest::BackgroundHashingSink m_hash;
  std::vector<unsigned char> m_buffer;
};

} // namespace

LayerResult normalize_layer(const readers::LayerSource& source, const NormalizeOptions& options, util::ByteSink* out,
                            Report& report)
{
  LayerResult result;
  ContentStore store(options.memory_limit);
  LayerBuilder builder(options.policy, report, store, source.display_name());
  util::Progress progress(options.progress, "reading " + source.display_name());

  util::Fd owned;
  std::optional<InputComparingHasher> comparing;
  if (source.kind == readers::LayerSource::Kind::directory) {
    std::optional<ObservingVisitor> observing;
    if (options.observer) {
      observing.emplace(builder, *options.observer, -1, source.display_name(), options.policy.max_sparse_fill);
    }
    readers::read_directory(source.path, observing ? static_cast<readers::EntryVisitor&>(*observing) : builder, progress);
    result.input_compression = "directory";
  } else {
    if (source.path != "-") {
      owned = readers::open_layer(source);
    }
    const readers::TarInput input = readers::tar_input_of(source, source.path == "-" ? 0 : owned.get());
    store.set_source(input.fd, input.name);
    std::optional<ObservingVisitor> observing;
    readers::TarReadOptions read_options{readers::SourceOffsets::offered};
    read_options.digests = options.input_identities == InputIdentities::compute;
    if (options.observer) {
      observing.emplace(builder, *options.observer, input.fd, input.name, options.policy.max_sparse_fill);
      read_options.digests = true;
    }
    const readers::TarReadResult r =
        readers::read_tar(input, observing ? static_cast<readers::EntryVisitor&>(*observing) : builder, progress, read_options);
    if (read_options.digests) {
      result.input_blob_digest = r.blob_digest;
      result.input_blob_size = r.raw_bytes;
      result.input_diff_id = r.diff_id;
      result.input_tar_size = r.stream_bytes;
      result.input_entries = r.entries;
    }
    result.input_compression = r.compression;
    result.input_ending = r.ending;
    if (r.ending != readers::TarEnding::end_blocks) {
      report.warn(util::Error::format(util::Location{input.name, std::nullopt, std::nullopt}, readers::ending_note(r.ending)));
    }
    report.bytes_in = r.tar_bytes;
    if (options.compare_with_input && !out && options.compute_digests && options.compression == Compression::none &&
        r.compression == "none" && input.seekable && !source.length) {
      comparing.emplace(input.fd, input.file_size, input.name);
    }
  }
  std::vector<readers::Entry> entries = builder.finish();
  progress.done();

  util::Progress write_progress(options.progress, "writing");
  LayerOutput output(options, out, comparing ? &*comparing : nullptr);
  warn_if_not_canonical(options.compression, report);
  if (options.compression != Compression::none) {
    const CompressorLibrary library = compressor_library(options.compression);
    const bool canonical = linked_known_answers(options.compression).status == KnownAnswer::pass;
    result.compressor = {library.name, library.version, canonical ? "pass" : "fail"};
  }
  write_canonical_layer(entries, store, output.tar_sink(), write_progress);
  write_progress.done();
  output.fill(result);
  report.bytes_out = result.tar_size;
  if (comparing) {
    // No compression: the blob is the tar.
    result.blob_size = result.tar_size;
    if (comparing->same_as_input()) {
      result.same_as_input = true;
    } else {
      result.blob_digest = comparing->digest();
      result.diff_id = result.blob_digest;
    }
  }
  return result;
}

} // namespace reproimg::normalize
