// Unit tests for reading skopeo's directory transport (dir:PATH): detection by content (a rootfs
// that merely has a file named `version` stays a rootfs), the version line, blob naming,
// verification, manifest lists, and Docker media types taken by their bytes.
#include "digest/sha256.hpp"
#include "image/dir_transport.hpp"
#include "image/image_source.hpp"
#include "image/media_types.hpp"

#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

using namespace reproimg;
using namespace reproimg::image;

namespace {

const std::string k_dir_version = "Directory Transport Version: 1.1\n";

// A one-file layer tar, its bytes.
std::string one_file_tar(const std::string& content)
{
  std::vector<char> buffer(1 << 16);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  BOOST_REQUIRE_EQUAL(archive_write_open_memory(a, buffer.data(), buffer.size(), &used), ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "etc/hello");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  BOOST_REQUIRE_EQUAL(archive_write_header(a, e), ARCHIVE_OK);
  BOOST_REQUIRE_EQUAL(archive_write_data(a, content.data(), content.size()), static_cast<la_ssize_t>(content.size()));
  archive_entry_free(e);
  BOOST_REQUIRE_EQUAL(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  return std::string(buffer.data(), used);
}

void write_bytes(const std::string& path, const std::string& bytes)
{
  util::write_file_atomic(path, bytes, 0644);
}

std::string hex_digest(const std::string& bytes)
{
  return digest::sha256_digest(bytes).substr(7);
}

struct WrittenDirImage {
  std::string manifest;
  std::string config;
  std::string layer;
};

// An image in the directory transport as skopeo writes it: version, manifest.json, blobs by hex
// (HEX.tar for version 1.0).
WrittenDirImage write_dir_image(const std::string& dir, const std::string& version = k_dir_version,
                        const std::string& manifest_media_type = media::oci_manifest)
{
  ::mkdir(dir.c_str(), 0755);
  WrittenDirImage w;
  w.layer = one_file_tar("hi\n");
  const std::string suffix = version.find(": 1.0") != std::string::npos ? ".tar" : "";
  Json config = {{"architecture", "amd64"}, {"os", "linux"},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {digest::sha256_digest(w.layer)}}}}};
  w.config = config.dump();
  const bool docker = manifest_media_type == media::docker_manifest;
  Json manifest = {{"schemaVersion", 2},
                   {"config", {{"mediaType", docker ? media::docker_config : media::oci_config},
                               {"digest", digest::sha256_digest(w.config)}, {"size", w.config.size()}}},
                   {"layers", {{{"mediaType", docker ? media::docker_layer_gzip : media::oci_layer},
                                {"digest", digest::sha256_digest(w.layer)}, {"size", w.layer.size()}}}}};
  if (!manifest_media_type.empty()) {
    manifest["mediaType"] = manifest_media_type;
  }
  w.manifest = manifest.dump();
  write_bytes(dir + "/version", version);
  write_bytes(dir + "/manifest.json", w.manifest);
  write_bytes(dir + "/" + hex_digest(w.config) + suffix, w.config);
  write_bytes(dir + "/" + hex_digest(w.layer) + suffix, w.layer);
  return w;
}

Image load_spec(const std::string& spec)
{
  const auto ref = parse_image_ref(spec);
  BOOST_REQUIRE(ref.has_value());
  const auto store = ImageStore::open(*ref);
  return load_image(*store, *ref, std::nullopt);
}

std::string load_spec_error(const std::string& spec)
{
  try {
    load_spec(spec);
  } catch (const util::Error& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

BOOST_AUTO_TEST_SUITE(dir_transport)

BOOST_AUTO_TEST_CASE(the_version_file_content_decides_not_its_name)
{
  test::TempDir tmp;
  const std::string rootfs = tmp.file("rootfs");
  ::mkdir(rootfs.c_str(), 0755);
  write_bytes(rootfs + "/version", "1.2.3\n"); // a rootfs with a file named version
  write_bytes(rootfs + "/manifest.json", "{}");
  BOOST_TEST(!holds_dir_transport(rootfs));
  BOOST_TEST(!parse_image_ref("dir:" + rootfs).has_value());
  BOOST_TEST(!parse_image_ref(rootfs).has_value());
  // Not followed: a rootfs's symlink named version, whatever it points at.
  const std::string linked = tmp.file("linked");
  ::mkdir(linked.c_str(), 0755);
  write_bytes(tmp.file("elsewhere"), k_dir_version);
  BOOST_REQUIRE_EQUAL(::symlink(tmp.file("elsewhere").c_str(), (linked + "/version").c_str()), 0);
  BOOST_TEST(!holds_dir_transport(linked));
  // A directory named version is no version file.
  const std::string dir_named = tmp.file("dirnamed");
  ::mkdir(dir_named.c_str(), 0755);
  ::mkdir((dir_named + "/version").c_str(), 0755);
  BOOST_TEST(!holds_dir_transport(dir_named));

  write_dir_image(tmp.file("image"));
  BOOST_TEST(holds_dir_transport(tmp.file("image")));
  for (const std::string& spec : {"dir:" + tmp.file("image"), tmp.file("image")}) {
    const auto ref = parse_image_ref(spec);
    BOOST_REQUIRE(ref.has_value());
    BOOST_TEST((ref->kind == ImageRef::Kind::dir_transport));
    BOOST_TEST(ref->path == tmp.file("image"));
    BOOST_TEST(ref->reference.empty());
  }
}

BOOST_AUTO_TEST_CASE(version_lines)
{
  BOOST_TEST(check_dir_transport_version("Directory Transport Version: 1.1\n", "v") == 1u);
  BOOST_TEST(check_dir_transport_version("Directory Transport Version: 1.0", "v") == 0u);
  BOOST_TEST(check_dir_transport_version("Directory Transport Version: 1.12\n", "v") == 12u);
  const auto message = [](const std::string& text) {
    try {
      check_dir_transport_version(text, "d/version");
    } catch (const util::Error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  BOOST_TEST(message("Directory Transport Version: 2.0\n") ==
             "d/version: directory transport version 2.0: reproimg reads version 1.x");
  for (const char* bad : {"Directory Transport Version: 1.1\nmore", "Directory Transport Version: 1.", "version 1.1",
                          "Directory Transport Version: x.1", ""}) {
    BOOST_TEST(message(bad).find("d/version: not a directory transport version line") == 0, bad);
  }
}

BOOST_AUTO_TEST_CASE(manifest_media_types_without_a_descriptor)
{
  BOOST_TEST(manifest_media_type_of(Json{{"mediaType", "x/y"}}) == "x/y");
  BOOST_TEST(manifest_media_type_of(Json{{"schemaVersion", 2}, {"config", {{"mediaType", media::oci_config}}}}) ==
             media::oci_manifest);
  BOOST_TEST(manifest_media_type_of(Json{{"schemaVersion", 2}, {"config", {{"mediaType", media::docker_config}}}}) ==
             media::docker_manifest);
  BOOST_TEST(manifest_media_type_of(Json{{"schemaVersion", 2}, {"manifests", Json::array()}}) == media::oci_index);
  BOOST_TEST(manifest_media_type_of(Json{{"schemaVersion", 1}, {"fsLayers", Json::array()}}) ==
             media::docker_manifest_v1);
  BOOST_TEST(manifest_media_type_of(Json::array()) == "");
}

BOOST_AUTO_TEST_CASE(an_image_is_read_with_its_blobs_named_by_digest)
{
  test::TempDir tmp;
  const WrittenDirImage w = write_dir_image(tmp.file("image"));
  const Image img = load_spec("dir:" + tmp.file("image"));
  BOOST_TEST(img.manifest_digest == digest::sha256_digest(w.manifest)); // the digest of manifest.json's bytes
  BOOST_TEST(img.manifest_media_type == media::oci_manifest);
  BOOST_TEST(img.config_digest == digest::sha256_digest(w.config));
  BOOST_REQUIRE_EQUAL(img.layers.size(), 1u);
  BOOST_TEST(img.layers[0].path == hex_digest(w.layer));
  BOOST_TEST(img.layers[0].digest == digest::sha256_digest(w.layer));
  BOOST_TEST(img.layers[0].stored_compression == "none");

  // Version 1.0 named every blob HEX.tar; a manifest may omit its mediaType.
  write_dir_image(tmp.file("v10"), "Directory Transport Version: 1.0\n", "");
  const Image old = load_spec("dir:" + tmp.file("v10"));
  BOOST_TEST(old.layers[0].path == hex_digest(w.layer) + ".tar");
  BOOST_TEST(old.manifest_media_type == media::oci_manifest);
}

BOOST_AUTO_TEST_CASE(docker_layer_types_are_taken_by_their_bytes)
{
  // podman save --format docker-dir: uncompressed layers under Docker's "...tar.gzip".
  test::TempDir tmp;
  write_dir_image(tmp.file("image"), k_dir_version, media::docker_manifest);
  const Image img = load_spec("dir:" + tmp.file("image"));
  BOOST_TEST(img.manifest_media_type == media::docker_manifest);
  BOOST_TEST(img.layers[0].media_type == media::docker_layer_gzip);
  BOOST_TEST(img.layers[0].compression == "");        // the type promises nothing
  BOOST_TEST(img.layers[0].stored_compression == "none"); // the bytes say
}

BOOST_AUTO_TEST_CASE(every_blob_is_verified_and_errors_name_the_file)
{
  test::TempDir tmp;
  const std::string dir = tmp.file("image");
  const WrittenDirImage w = write_dir_image(dir);
  std::string config = w.config;
  config[config.size() - 2] ^= 1; // same size, other bytes
  write_bytes(dir + "/" + hex_digest(w.config), config);
  BOOST_TEST(load_spec_error("dir:" + dir) == dir + "/" + hex_digest(w.config) + ": content digest " +
                                             digest::sha256_digest(config) + " differs from the descriptor's " +
                                             digest::sha256_digest(w.config));
  write_bytes(dir + "/" + hex_digest(w.config), w.config);
  write_bytes(dir + "/" + hex_digest(w.layer), w.layer + "x");
  BOOST_TEST(load_spec_error("dir:" + dir) == dir + "/" + hex_digest(w.layer) + ": size " + std::to_string(w.layer.size() + 1) +
                                             " differs from the descriptor's " + std::to_string(w.layer.size()));
  ::unlink((dir + "/" + hex_digest(w.layer)).c_str());
  BOOST_TEST(load_spec_error("dir:" + dir) == dir + "/" + hex_digest(w.layer) + ": missing from the image");
  ::unlink((dir + "/manifest.json").c_str());
  BOOST_TEST(load_spec_error("dir:" + dir) == dir + "/manifest.json: missing: the directory transport's manifest");
  write_bytes(dir + "/manifest.json", R"({"schemaVersion":1,"fsLayers":[]})");
  BOOST_TEST(load_spec_error("dir:" + dir).find(dir + "/manifest.json: a Docker schema 1 manifest") == 0);
  write_bytes(dir + "/version", "Directory Transport Version: 3.0\n");
  BOOST_TEST(load_spec_error("dir:" + dir) == dir + "/version: directory transport version 3.0: reproimg reads version 1.x");
}

BOOST_AUTO_TEST_CASE(a_manifest_list_names_its_instances_by_digest)
{
  // skopeo copy --multi-arch all ... dir:D: manifest.json is the list, each instance HEX.manifest.json.
  test::TempDir tmp;
  const std::string dir = tmp.file("image");
  const WrittenDirImage w = write_dir_image(dir);
  write_bytes(dir + "/" + hex_digest(w.manifest) + ".manifest.json", w.manifest);
  const Json list = {{"schemaVersion", 2},
                     {"mediaType", media::oci_index},
                     {"manifests",
                      {{{"mediaType", media::oci_manifest}, {"digest", digest::sha256_digest(w.manifest)},
                        {"size", w.manifest.size()}, {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
                       {{"mediaType", media::oci_manifest}, {"digest", digest::sha256_digest("{}")},
                        {"size", 2}, {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}}}}};
  write_bytes(dir + "/manifest.json", list.dump());
  const auto ref = parse_image_ref("dir:" + dir);
  const auto store = ImageStore::open(*ref);
  const Image img = load_image(*store, *ref, Platform{"linux", "amd64", ""});
  BOOST_TEST(img.manifest_digest == digest::sha256_digest(w.manifest));
  BOOST_TEST(img.layers[0].path == hex_digest(w.layer));
  // The other instance is absent (copied without --multi-arch all): an error naming its file.
  try {
    load_image(*store, *ref, Platform{"linux", "arm64", ""});
    BOOST_FAIL("an absent instance was read");
  } catch (const util::Error& e) {
    BOOST_TEST(std::string(e.what()) == dir + "/" + hex_digest("{}") + ".manifest.json: missing from the image");
  }
}

BOOST_AUTO_TEST_SUITE_END()
