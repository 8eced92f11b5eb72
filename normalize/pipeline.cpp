// The normalisation pipeline for one layer.
#include "normalize/pipeline.hpp"

#include "digest/sha256.hpp"
#include "normalize/compress.hpp"
#include "normalize/dir_reader.hpp"
#include "normalize/layer.hpp"
#include "normalize/tar_reader.hpp"
#include "util/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace reproimg::normalize {

namespace {

class NullSink : public util::ByteSink {
public:
  void write(const void*, size_t) override {}
};

} // namespace

LayerSource parse_layer_source(const std::string& spec)
{
  if (spec.rfind("dir:", 0) == 0) {
    return {LayerSource::Kind::directory, spec.substr(4)};
  }
  if (spec.rfind("tar:", 0) == 0) {
    return {LayerSource::Kind::tar, spec.substr(4)};
  }
  if (spec == "-") {
    return {LayerSource::Kind::tar, "-"};
  }
  struct stat st {};
  if (::stat(spec.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return {LayerSource::Kind::directory, spec};
  }
  return {LayerSource::Kind::tar, spec};
}

LayerResult normalize_layer(const LayerSource& source, const NormalizeOptions& options, util::ByteSink* out,
                            Report& report)
{
  LayerResult result;
  ContentStore store(options.memory_limit);
  LayerBuilder builder(options.policy, report, store, source.display_name());
  util::Progress progress(options.progress, "reading " + source.display_name());

  util::Fd owned;
  if (source.kind == LayerSource::Kind::directory) {
    read_directory(source.path, builder, progress);
    result.input_compression = "directory";
  } else {
    TarInput input;
    input.name = source.display_name();
    if (source.path == "-") {
      input.fd = 0;
    } else {
      owned = util::open_read(source.path);
      input.fd = owned.get();
    }
    struct stat st {};
    input.seekable = ::fstat(input.fd, &st) == 0 && S_ISREG(st.st_mode);
    input.file_size = input.seekable ? static_cast<std::uint64_t>(st.st_size) : 0;
    input.range_offset = source.offset;
    input.range_length = source.length;
    store.set_source(input.fd, input.name);
    const TarReadResult r = read_tar(input, builder, progress, true);
    result.input_compression = r.compression;
    report.bytes_in = r.tar_bytes;
  }
  std::vector<Entry> entries = builder.finish();
  progress.done();

  util::Progress write_progress(options.progress, "writing");
  NullSink null_sink;
  util::ByteSink& final_sink = out ? *out : null_sink;
  digest::HashingSink blob_hash(&final_sink);
  util::ByteSink& after_compression = options.compute_digests ? static_cast<util::ByteSink&>(blob_hash) : final_sink;
  std::unique_ptr<util::ByteSink> compressor = make_compressor(options.compression, after_compression);
  util::ByteSink& before_compression = compressor ? *compressor : after_compression;
  digest::HashingSink tar_hash(&before_compression);
  const bool hash_tar = options.compute_digests && compressor;
  util::ByteSink& tar_sink = hash_tar ? static_cast<util::ByteSink&>(tar_hash) : before_compression;

  class CountingSink : public util::ByteSink {
  public:
    explicit CountingSink(util::ByteSink& next) : m_next(next) {}
    void write(const void* d, size_t n) override
    {
      m_next.write(d, n);
      bytes += n;
    }
    void finish() override { m_next.finish(); }
    std::uint64_t bytes = 0;

  private:
    util::ByteSink& m_next;
  } counting(tar_sink);

  write_canonical_layer(entries, store, counting, write_progress);
  write_progress.done();
  result.tar_size = counting.bytes;
  report.bytes_out = counting.bytes;
  if (options.compute_digests) {
    result.blob_size = blob_hash.bytes();
    result.blob_digest = blob_hash.digest();
    result.diff_id = hash_tar ? tar_hash.digest() : result.blob_digest;
  }
  return result;
}

} // namespace reproimg::normalize
