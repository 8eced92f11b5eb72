// One layer through the whole data path: source -> canonical entries -> canonical tar ->
// sha256 (diff_id) -> compressor -> sha256 (blob digest) -> sink.
#pragma once

#include "normalize/layer_options.hpp"
#include "readers/layer_source.hpp"
#include "normalize/report.hpp"
#include "util/file.hpp"
#include "util/progress.hpp"

#include <optional>
#include <string>

namespace reproimg::normalize {

// Normalises one layer into out (null: only the digests are computed, nothing is written).
LayerResult normalize_layer(const readers::LayerSource& source, const NormalizeOptions& options, util::ByteSink* out,
                            Report& report);

} // namespace reproimg::normalize
