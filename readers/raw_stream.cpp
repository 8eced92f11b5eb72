// One pass over a (compressed) layer: hash the stored bytes and the decompressed bytes, reading
// the tar headers on the way so that only a whole tar stream gets identities.
#include "readers/raw_stream.hpp"

#include "readers/tar_reader.hpp"

namespace reproimg::readers {

namespace {

// Reads no entry's data: libarchive passes over it (every byte still goes through the hashes).
// Its warnings are kept for the caller to pass on.
class SkipEntries : public EntryVisitor {
public:
  void on_entry(SourceEntry&, EntryData&) override {}
  void on_warning(const std::string& message) override { warnings.push_back(message); }
  std::vector<std::string> warnings;
};

StreamDigests digest_visited(const TarInput& input, EntryVisitor& visitor, util::ByteSink* decompressed,
                             util::Progress* progress)
{
  util::Progress quiet(util::ProgressMode::off, "");
  TarReadOptions options;
  options.digests = true;
  options.tar_tee = decompressed;
  return stream_digests_of(read_tar(input, visitor, progress ? *progress : quiet, options));
}

StreamDigests digest_input(const TarInput& input, util::ByteSink* decompressed, util::Progress* progress)
{
  SkipEntries skip;
  StreamDigests out = digest_visited(input, skip, decompressed, progress);
  out.warnings = std::move(skip.warnings);
  return out;
}

TarInput layer_input(const LayerSource& source, util::Fd& owned)
{
  if (source.path != "-") {
    owned = open_layer(source);
  }
  TarInput input = tar_input_of(source, source.path == "-" ? 0 : owned.get());
  if (!source.length) {
    input.seekable = false; // from where the descriptor stands, as a pipe would give it
  }
  return input;
}

} // namespace

StreamDigests stream_digests_of(const TarReadResult& r)
{
  StreamDigests out;
  out.compression = r.compression;
  out.blob_digest = r.blob_digest;
  out.blob_size = r.raw_bytes;
  out.diff_id = r.diff_id;
  out.tar_size = r.stream_bytes;
  out.entries = r.entries;
  out.ending = r.ending;
  return out;
}

StreamDigests digest_stream(int fd, const std::string& name, util::ByteSink* decompressed, util::Progress* progress)
{
  TarInput input = tar_input_of(fd, name);
  // The stored bytes are hashed from where the descriptor stands, as a pipe would give them.
  input.seekable = false;
  return digest_input(input, decompressed, progress);
}

StreamDigests digest_layer(const LayerSource& source, util::ByteSink* decompressed, util::Progress* progress)
{
  util::Fd owned;
  return digest_input(layer_input(source, owned), decompressed, progress);
}

StreamDigests digest_layer_entries(const LayerSource& source, EntryVisitor& visitor)
{
  util::Fd owned;
  return digest_visited(layer_input(source, owned), visitor, nullptr, nullptr);
}

StreamDigests digest_stream_range(int fd, const std::string& name, std::uint64_t offset, std::uint64_t length,
                                  util::ByteSink* decompressed)
{
  TarInput input = tar_input_of(fd, name);
  input.range_offset = offset;
  input.range_length = length;
  return digest_input(input, decompressed, nullptr);
}

} // namespace reproimg::readers
