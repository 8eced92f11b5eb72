// Where a layer is read from: a tar file, standard input, a byte range of an image archive, or a
// rootfs directory; and, for a blob of an image, what it must be.
#pragma once

#include "readers/blob_check.hpp"
#include "readers/tar_reader.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace reproimg::readers {

struct LayerSource {
  enum class Kind { tar, directory };
  LayerSource() = default;
  LayerSource(Kind k, std::string p) : kind(k), path(std::move(p)) {}

  Kind kind = Kind::tar;
  std::string path; // "-" is standard input
  // A layer stored inside a file (a member of an image archive): bytes [offset, offset + *length).
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
  // A blob of an image: what it must be, checked by every read of it (see TarInput::expect).
  std::optional<BlobExpectation> expect;
  // A blob still being downloaded (the path is where it is written): opened with open_layer, read
  // as it grows; its end is only reached once the download is whole and checked.
  std::shared_ptr<const util::GrowingFile> growing;
  // A blob kept from an earlier run (a cache's): called when a read finds other bytes than its
  // expectation says; returns what the error adds (the copy removed). See BlobExpectation.
  std::function<std::string()> on_mismatch;
  // For messages: the blob as its image names it ("FILE" or "ARCHIVE:MEMBER"); empty: the path.
  std::string label;
  std::string display_name() const { return !label.empty() ? label : path == "-" ? "<stdin>" : path; }
};

// Opens a tar source that is a file (not "-"): a growing one where it is now, and, with
// Growth::wait, only once it is whole and checked (for readers that do not read through TarInput).
enum class Growth { follow, wait };
[[nodiscard]] util::Fd open_layer(const LayerSource& source, Growth growth = Growth::follow);

// The tar input of a tar source opened as fd: its byte range and its expectation.
TarInput tar_input_of(const LayerSource& source, int fd);

// "dir:PATH", "tar:FILE", "-", or a plain path (a directory is read as a rootfs); docker://REF (an
// image in a registry) is refused: no layer.
LayerSource parse_layer_source(const std::string& spec);

// Throws util::Error saying what to do for an input in a transport reproimg does not read:
// docker-daemon:REF, containers-storage:REF. Every command's input parsing calls it first.
void refuse_unread_transport(const std::string& spec);

} // namespace reproimg::readers
