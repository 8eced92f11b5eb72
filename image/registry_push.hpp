// Pushing an image to a registry (docker://): the OCI layout the image writer produced, its blobs
// uploaded where missing (HEAD first, a cross-repository mount when this run read the blob from
// another repository of the same registry), then its manifest(s), the top one by tag. The bytes
// pushed are the layout's: the pushed digest is the one an oci: output gets.
#pragma once

#include "image/image_writer.hpp"
#include "registry/reference.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace reproimg::registry {
class Client;
}

namespace reproimg::image {

struct PushResult {
  std::string digest;    // of the top manifest (or index)
  std::string reference; // "REGISTRY/REPOSITORY:TAG@DIGEST" as printed
  unsigned blobs_uploaded = 0;
  unsigned blobs_present = 0; // already there, or mounted
};

// Uploads that start while the image is still being written (ImageTarget::staged_blob): a staged
// layer blob is sent at once (HEAD first: a blob the registry has, or can mount, is not sent) in a
// session that push_layout commits only after the image was finished, so that a blob which then
// fails its checks is never stored. What was not committed is cancelled when this goes.
class EarlyUploads {
public:
  // Throws util::Error for a destination registries.conf blocks (said before anything is built).
  explicit EarlyUploads(registry::Reference dest);
  ~EarlyUploads();
  EarlyUploads(const EarlyUploads&) = delete;
  EarlyUploads& operator=(const EarlyUploads&) = delete;

  // For ImageTarget::staged_blob. The file is opened before it returns.
  StagedBlob hook();

  enum class Outcome { not_staged, present, committed };
  // Waits for the blob's early upload and commits it. not_staged also when that upload failed or
  // its session was lost: the caller pushes the blob as usual (and meets any error again).
  Outcome commit(const std::string& digest);

private:
  struct Upload;
  void stage(const std::string& file, const std::string& digest, std::uint64_t size);

  registry::Reference m_dest;
  registry::Client* m_client;
  std::mutex m_mutex; // guards m_uploads
  std::map<std::string, std::unique_ptr<Upload>> m_uploads; // by digest
  std::unique_ptr<struct UploadSlots> m_slots;
};

// Pushes the one image (or index) of the OCI layout at dir to dest. A digest reference is
// refused unless it is the manifest's own digest. early: uploads started while the layout was
// written, or null.
PushResult push_layout(const std::string& dir, const registry::Reference& dest, EarlyUploads* early = nullptr);

} // namespace reproimg::image
