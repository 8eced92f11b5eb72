// Copying an image as it is (image_copy.hpp).
#include "image/image_copy.hpp"

namespace reproimg::image {

WrittenImage copy_image(const ImageStore& store, const Image& image, ImageTarget target,
                        ImageWriter::LayerCheck check)
{
  ImageWriter writer(std::move(target));
  for (size_t i = 0; i < image.layers.size(); ++i) {
    writer.add_existing_layer(store, image.layers[i], image.diff_ids[i], nullptr, check);
  }
  return writer.finish_copy(image);
}

WrittenImage copy_index(const ImageStore& store, const ImageIndex& index, ImageTarget target,
                        ImageWriter::LayerCheck check)
{
  ImageWriter writer(std::move(target));
  for (const Image& image : index.images) {
    for (size_t i = 0; i < image.layers.size(); ++i) {
      writer.add_existing_layer(store, image.layers[i], image.diff_ids[i], nullptr, check);
    }
  }
  return writer.finish_index_copy(index);
}

} // namespace reproimg::image
