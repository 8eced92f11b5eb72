// The canonical pipeline for produced entries: LayerBuilder -> canonical tar -> hashes -> compressor.
#include "normalize/entries_pipeline.hpp"

#include "digest/sha256.hpp"
#include "normalize/compress.hpp"
#include "normalize/layer.hpp"

#include <memory>

namespace reproimg::normalize {

namespace {

class NullSink : public util::ByteSink {
public:
  void write(const void*, size_t) override {}
};

class CountingSink : public util::ByteSink {
public:
  explicit CountingSink(util::ByteSink& next) : m_next(next) {}
  void write(const void* data, size_t size) override
  {
    m_next.write(data, size);
    m_bytes += size;
  }
  void finish() override { m_next.finish(); }
  std::uint64_t bytes() const { return m_bytes; }

private:
  util::ByteSink& m_next;
  std::uint64_t m_bytes = 0;
};

} // namespace

LayerResult normalize_entries(const std::string& input_name, const EntryProducer& produce,
                              const NormalizeOptions& options, util::ByteSink* out, Report& report,
                              std::vector<Entry>* written)
{
  LayerResult result;
  result.input_compression = "none";
  ContentStore store(options.memory_limit);
  LayerBuilder builder(options.policy, report, store, input_name);
  produce(builder);
  std::vector<Entry> entries = builder.finish();

  util::Progress progress(options.progress, "writing " + input_name);
  NullSink null_sink;
  util::ByteSink& final_sink = out ? *out : null_sink;
  digest::HashingSink blob_hash(&final_sink);
  util::ByteSink& after_compression =
      options.compute_digests ? static_cast<util::ByteSink&>(blob_hash) : final_sink;
  std::unique_ptr<util::ByteSink> compressor = make_compressor(options.compression, after_compression);
  util::ByteSink& before_compression = compressor ? *compressor : after_compression;
  digest::HashingSink tar_hash(&before_compression);
  const bool hash_tar = options.compute_digests && compressor;
  util::ByteSink& tar_sink = hash_tar ? static_cast<util::ByteSink&>(tar_hash) : before_compression;
  CountingSink counting(tar_sink);

  write_canonical_layer(entries, store, counting, progress);
  progress.done();
  result.tar_size = counting.bytes();
  report.bytes_out += counting.bytes();
  if (options.compute_digests) {
    result.blob_size = blob_hash.bytes();
    result.blob_digest = blob_hash.digest();
    result.diff_id = hash_tar ? tar_hash.digest() : result.blob_digest;
  }
  if (written) {
    *written = std::move(entries);
  }
  return result;
}

} // namespace reproimg::normalize
