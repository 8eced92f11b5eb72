// The canonical pipeline for produced entries: LayerBuilder -> canonical tar -> hashes -> compressor.
#include "normalize/entries_pipeline.hpp"

#include "normalize/layer.hpp"
#include "normalize/known_answer.hpp"
#include "normalize/layer_output.hpp"

namespace reproimg::normalize {

LayerResult normalize_entries(const std::string& input_name, const EntryProducer& produce,
                              const NormalizeOptions& options, util::ByteSink* out, Report& report,
                              std::vector<readers::Entry>* written)
{
  LayerResult result;
  result.input_compression = "none";
  ContentStore store(options.memory_limit);
  LayerBuilder builder(options.policy, report, store, input_name);
  produce(builder);
  std::vector<readers::Entry> entries = builder.finish();

  util::Progress progress(options.progress, "writing " + input_name);
  LayerOutput output(options, out);
  warn_if_not_canonical(options.compression, report);
  write_canonical_layer(entries, store, output.tar_sink(), progress);
  progress.done();
  output.fill(result);
  report.bytes_out += result.tar_size;
  if (written) {
    *written = std::move(entries);
  }
  return result;
}

} // namespace reproimg::normalize
