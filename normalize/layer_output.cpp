// The sink chain behind the canonical tar writer.
#include "normalize/layer_output.hpp"

#include "normalize/compress.hpp"

#include <stdexcept>

namespace reproimg::normalize {

LayerOutput::LayerOutput(const NormalizeOptions& options, util::ByteSink* out, util::ByteSink* uncompressed_to)
{
  util::ByteSink& final_sink = out ? *out : m_null;
  util::ByteSink* tar_target = nullptr;
  if (options.compression != Compression::none) {
    if (uncompressed_to) {
      throw std::logic_error("LayerOutput: uncompressed_to with compression");
    }
    util::ByteSink* after_compression = &final_sink;
    if (options.compute_digests) {
      after_compression = &m_blob_hash.emplace(&final_sink);
    }
    m_compressor = make_compressor(options.compression, *after_compression, options.threads);
    tar_target = m_compressor.get();
    if (options.compute_digests) {
      tar_target = &m_tar_hash.emplace(m_compressor.get());
    }
  } else if (uncompressed_to) {
    tar_target = uncompressed_to;
  } else if (options.compute_digests) {
    tar_target = &m_tar_hash.emplace(&final_sink);
  } else {
    tar_target = &final_sink;
  }
  m_counting.emplace(*tar_target);
}

void LayerOutput::fill(LayerResult& result)
{
  result.tar_size = m_counting->bytes();
  if (!m_tar_hash) {
    return;
  }
  result.diff_id = m_tar_hash->digest();
  if (m_blob_hash) {
    result.blob_size = m_blob_hash->bytes();
    result.blob_digest = m_blob_hash->digest();
  } else {
    result.blob_size = result.tar_size; // no compression: the blob is the tar
    result.blob_digest = result.diff_id;
  }
}

} // namespace reproimg::normalize
