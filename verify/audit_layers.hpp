// The audit's checks across layers: what later layers hide (hidden-by-later-layer, through the
// image's one overlay) and the space they waste, counted as dive counts it (wasted-space).
#pragma once

#include "verify/audit_model.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace reproimg::verify {

// hidden-by-later-layer: every regular file with content of a layer whose data the flattened
// image no longer shows (deleted, overwritten, or under a replaced directory), naming the layer
// that hid it; attributes.secret when a secret check matched it.
void check_hidden(const std::vector<LayerData>& layers, std::vector<Finding>& out);

// dive's figures (its filetree.Efficiency and image analysis, reimplemented).
struct Waste {
  std::uint64_t size_bytes = 0;      // every layer's file bytes
  std::uint64_t user_size_bytes = 0; // all but the first layer's
  std::uint64_t wasted_bytes = 0;
  double wasted_user_percent = 0; // wasted / user size (0 when there is no user size)
  double efficiency = 1.0;
  struct Path {
    std::string path;
    std::size_t count = 0;
    std::uint64_t cumulative_size = 0;
  };
  std::vector<Path> inefficiencies; // largest first
};
Waste measure_waste(const std::vector<LayerData>& layers);

// wasted-space, when any byte is wasted.
void check_waste(const Waste& waste, std::vector<Finding>& out);

} // namespace reproimg::verify
