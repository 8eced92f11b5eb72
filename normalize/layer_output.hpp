// The sinks behind the canonical tar writer, one chain for every pipeline: the tar is counted and
// hashed (diff_id), compressed, the compressed bytes hashed (blob digest) and written out.
#pragma once

#include "digest/background_sha256.hpp"
#include "digest/sha256.hpp"
#include "normalize/layer_options.hpp"
#include "util/file.hpp"

#include <memory>
#include <optional>

namespace reproimg::normalize {

class LayerOutput {
public:
  // out: where the blob goes (null: nowhere, only the digests are computed). The uncompressed
  // stream is hashed on a thread of its own while the caller produces the next bytes.
  // uncompressed_to (Compression::none only): where the stream goes instead of being hashed
  // here; the caller then computes the digests itself.
  LayerOutput(const NormalizeOptions& options, util::ByteSink* out, util::ByteSink* uncompressed_to = nullptr);
  LayerOutput(const LayerOutput&) = delete;
  LayerOutput& operator=(const LayerOutput&) = delete;

  // Where the canonical tar is written.
  util::ByteSink& tar_sink() { return *m_counting; }
  std::uint64_t tar_size() const { return m_counting->bytes(); }
  // Once the tar is written and finished: tar_size, and blob_size, blob_digest and diff_id where
  // this chain computes them.
  void fill(LayerResult& result);

private:
  util::NullSink m_null;
  std::optional<digest::HashingSink> m_blob_hash;                // compressed bytes
  std::unique_ptr<util::ByteSink> m_compressor;
  std::optional<digest::BackgroundHashingSink> m_tar_hash;       // uncompressed bytes
  std::optional<util::CountingSink> m_counting;
};

} // namespace reproimg::normalize
