// Copying an image as it is: every blob byte for byte, the config and manifest bytes kept, so that
// the copy has the source's image ID and manifest digest (what skopeo copy and crane copy do).
#pragma once

#include "image/image_source.hpp"
#include "image/image_writer.hpp"

namespace reproimg::image {

// Copies the image into target (its format, out, tag, staged_blob; platform and epoch are the
// source's and unused). Every blob is checked before it is kept: the manifest and config when the
// image is loaded, each layer's digest and size as it is copied and its compression against its
// media type; with LayerCheck::contents each layer is also decompressed and checked against the
// config's diff_id. A docker-archive output (no manifest) keeps the config bytes and stores the
// layers decompressed, each checked whole.
WrittenImage copy_image(const ImageStore& store, const Image& image, ImageTarget target,
                        ImageWriter::LayerCheck check);

// The same for an index and every image it lists (skopeo copy --all): the index's bytes kept too,
// so the copy has its digest. Not to a docker-archive.
WrittenImage copy_index(const ImageStore& store, const ImageIndex& index, ImageTarget target,
                        ImageWriter::LayerCheck check);

} // namespace reproimg::image
