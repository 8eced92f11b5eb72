// Fuzz target: the image reader. The input is an image archive (docker-archive or oci-archive,
// read in place as the CLI reads it), or, after the line "REPROIMG-FUZZ-LAYOUT", documents
// separated by "\n%%\n" that are written out as a directory: the first is index.json (or
// manifest.json when it is a JSON list), the others blobs/sha256/<their digest>. In a document,
// @Dn, @Sn and @Pn stand for the digest, size and blob path of document n (n > its own number), so
// that mutated JSON still passes the digest checks and reaches the code behind them. The same
// documents are also written as skopeo's directory transport (version, manifest.json = the first,
// the others named by their hex digest and as HEX.manifest.json) and read as dir:.
// For each image found: load_image, the stored identities of every layer (digest_image), every
// layer through normalize_layer with no sink, and the canonical config. Only util::Error may leave.
#include "digest/sha256.hpp"
#include "fuzz_support.hpp"
#include "image/image_normalize.hpp"
#include "image/image_source.hpp"
#include "normalize/pipeline.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/spool.hpp"

#include <sys/stat.h>
#include <vector>

using namespace reproimg;

namespace {

constexpr std::string_view k_layout_marker = "REPROIMG-FUZZ-LAYOUT\n";
constexpr std::string_view k_separator = "\n%%\n";
constexpr size_t k_max_documents = 10;

normalize::NormalizeOptions options()
{
  normalize::NormalizeOptions o;
  o.progress = util::ProgressMode::off;
  o.policy.max_sparse_fill = 1 << 20; // --max-sparse-fill: no gigabytes of holes per input
  return o;
}

void read_image(const image::ImageStore& store, const image::ImageRef& ref)
{
  const image::Image img = image::load_image(store, ref, std::nullopt);
  const image::ImageIdentities ids = image::digest_image(store, img, false, options());
  std::vector<std::string> canonical_ids;
  for (const auto& layer : img.layers) {
    normalize::Report report;
    canonical_ids.push_back(normalize::normalize_layer(store.layer_source(layer.path), options(), nullptr, report).diff_id);
  }
  fuzz::check(ids.layers.size() == img.layers.size(), "digest_image lost a layer");
  image::canonical_json(image::canonical_config(img.config, canonical_ids, 0));
}

// Reads ref's image; for a docker-archive with several images that need naming, the first one,
// as skopeo's docker-archive:FILE:@0 names it.
void read_any(const image::ImageStore& store, const image::ImageRef& ref)
{
  try {
    read_image(store, ref);
  } catch (const util::Error& e) {
    fuzz::refused(e);
    if (ref.kind != image::ImageRef::Kind::docker_archive) {
      return;
    }
    image::ImageRef first = ref;
    first.reference = "@0";
    try {
      read_image(store, first);
    } catch (const util::Error& e) {
      fuzz::refused(e);
    }
  }
}

std::vector<std::string> split_documents(std::string_view text)
{
  std::vector<std::string> docs;
  while (docs.size() + 1 < k_max_documents) {
    const size_t at = text.find(k_separator);
    if (at == std::string_view::npos) {
      break;
    }
    docs.emplace_back(text.substr(0, at));
    text.remove_prefix(at + k_separator.size());
  }
  docs.emplace_back(text);
  return docs;
}

void replace_all(std::string& s, const std::string& from, const std::string& to)
{
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The documents as skopeo's directory transport in dir.
void write_dir_transport(const std::vector<std::string>& docs, const std::vector<std::string>& hex,
                         const std::string& dir)
{
  util::remove_tree(dir);
  ::mkdir(dir.c_str(), 0700);
  util::write_file_atomic(dir + "/version", "Directory Transport Version: 1.1\n");
  util::write_file_atomic(dir + "/manifest.json", docs[0]);
  for (size_t k = 1; k < docs.size(); ++k) {
    util::write_file_atomic(dir + "/" + hex[k], docs[k]);
    util::write_file_atomic(dir + "/" + hex[k] + ".manifest.json", docs[k]);
  }
}

// Writes the documents as a layout in dir (and as a directory transport in dir_transport); true
// when the first is a manifest.json.
bool write_layout(std::string_view text, const std::string& dir, const std::string& dir_transport)
{
  std::vector<std::string> docs = split_documents(text);
  std::vector<std::string> hex(docs.size());
  for (size_t j = docs.size(); j-- > 0;) {
    for (size_t k = j + 1; k < docs.size(); ++k) {
      const std::string n = std::to_string(k);
      replace_all(docs[j], "@D" + n, "sha256:" + hex[k]);
      replace_all(docs[j], "@S" + n, std::to_string(docs[k].size()));
      replace_all(docs[j], "@P" + n, "blobs/sha256/" + hex[k]);
    }
    hex[j] = digest::sha256_digest(docs[j]).substr(7);
  }
  util::remove_tree(dir);
  ::mkdir(dir.c_str(), 0700);
  ::mkdir((dir + "/blobs").c_str(), 0700);
  ::mkdir((dir + "/blobs/sha256").c_str(), 0700);
  const size_t first = docs[0].find_first_not_of(" \t\r\n");
  const bool docker = first != std::string::npos && docs[0][first] == '[';
  if (docker) {
    util::write_file_atomic(dir + "/manifest.json", docs[0]);
  } else {
    util::write_file_atomic(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    util::write_file_atomic(dir + "/index.json", docs[0]);
  }
  for (size_t k = 1; k < docs.size(); ++k) {
    util::write_file_atomic(dir + "/blobs/sha256/" + hex[k], docs[k]);
  }
  write_dir_transport(docs, hex, dir_transport);
  return docker;
}

const std::string& work_dir()
{
  static util::TempDir dir(util::temp_directory() + "/reproimg-fuzz-image.");
  return dir.path();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.substr(0, k_layout_marker.size()) == k_layout_marker) {
    const std::string dir = work_dir() + "/layout";
    const std::string transport = work_dir() + "/dir-transport";
    const bool docker = write_layout(bytes.substr(k_layout_marker.size()), dir, transport);
    const auto store = image::ImageStore::open(image::ImageRef{image::ImageRef::Kind::oci, dir, ""});
    read_any(*store, image::ImageRef{docker ? image::ImageRef::Kind::docker_archive : image::ImageRef::Kind::oci, dir, ""});
    const image::ImageRef transport_ref{image::ImageRef::Kind::dir_transport, transport, ""};
    read_any(*image::ImageStore::open(transport_ref), transport_ref);
    return 0;
  }
  const fuzz::MemFile input(bytes);
  // Detected as the CLI detects it (docker-archive when manifest.json is there, else oci-archive),
  // then read as the other kind as well.
  std::optional<image::ImageRef> ref;
  try {
    ref = image::parse_image_ref(input.path());
  } catch (const util::Error& e) {
    fuzz::refused(e);
  }
  if (!ref) {
    return 0;
  }
  std::unique_ptr<image::ImageStore> store;
  try {
    store = image::ImageStore::open(*ref);
  } catch (const util::Error& e) {
    fuzz::refused(e);
    return 0;
  }
  read_any(*store, *ref);
  image::ImageRef other = *ref;
  other.kind = ref->kind == image::ImageRef::Kind::docker_archive ? image::ImageRef::Kind::oci_archive
                                                                   : image::ImageRef::Kind::docker_archive;
  read_any(*store, other);
  return 0;
}
