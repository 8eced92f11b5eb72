// Entries a caller produces itself (not read from a tar or a directory) through the canonical pipeline.
#pragma once

#include "readers/entry.hpp"
#include "normalize/pipeline.hpp"
#include "normalize/report.hpp"
#include "readers/source.hpp"
#include "util/file.hpp"

#include <functional>
#include <string>
#include <vector>

namespace reproimg::normalize {

// Called once; calls visitor.on_entry for every entry of the layer, in any order (a path given
// twice keeps the last entry, as for a tar).
using EntryProducer = std::function<void(readers::EntryVisitor& visitor)>;

// The same data path as normalize_layer: policy, canonical paths, sort, canonical tar, diff_id,
// compressor, blob digest, out (null: only the digests are computed). input_name names the
// source in messages. If written is not null it receives the entries as written, in canonical
// order (their content references are no longer valid once this returns).
LayerResult normalize_entries(const std::string& input_name, const EntryProducer& produce,
                              const NormalizeOptions& options, util::ByteSink* out, Report& report,
                              std::vector<readers::Entry>* written = nullptr);

} // namespace reproimg::normalize
