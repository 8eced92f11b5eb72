// Unit tests for the container-format comparison of two images: what is `format` (a transport's
// doing), what is `compression`, and what stays a `manifest` field.
#include "diff/image_documents.hpp"
#include "digest/sha256.hpp"
#include "image/media_types.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg;
using namespace reproimg::diff;
namespace media = reproimg::image::media;

namespace {

image::LayerRef stored_layer(const std::string& media_type, const std::string& bytes, const std::string& compression)
{
  image::LayerRef l;
  l.media_type = media_type;
  l.digest = digest::sha256_digest(bytes);
  l.size = bytes.size();
  l.stored_compression = compression;
  return l;
}

const std::string k_plain_config = R"({"architecture":"amd64","os":"linux","rootfs":{"diff_ids":[],"type":"layers"}})";

// An image as the readers load it: with a manifest of this media type ("" : a docker-archive).
image::Image loaded_image(image::ImageRef::Kind kind, const std::string& manifest_media_type,
                      const image::Json& extra_manifest_fields = image::Json::object(),
                      const std::string& config_bytes = k_plain_config)
{
  image::Image img;
  img.ref.kind = kind;
  img.config_bytes = config_bytes;
  img.config = image::Json::parse(config_bytes);
  img.config_digest = digest::sha256_digest(config_bytes);
  if (!manifest_media_type.empty()) {
    const bool docker = manifest_media_type == media::docker_manifest;
    image::Json m = {{"schemaVersion", 2},
                     {"mediaType", manifest_media_type},
                     {"config", {{"mediaType", docker ? media::docker_config : media::oci_config}}},
                     {"layers", image::Json::array()}};
    m.update(extra_manifest_fields);
    img.manifest_bytes = m.dump();
    img.manifest_media_type = manifest_media_type;
    img.manifest_digest = digest::sha256_digest(img.manifest_bytes);
  }
  return img;
}

std::string attribute_names(const Difference& d)
{
  std::string names;
  for (const auto& a : d.attributes) names += (names.empty() ? "" : ",") + a.first;
  return names;
}

} // namespace

BOOST_AUTO_TEST_SUITE(image_documents)

BOOST_AUTO_TEST_CASE(a_stored_layer_is_format_when_the_transport_chose_its_form)
{
  const auto oci_gzip = stored_layer(media::oci_layer_gzip, "gz-by-reproimg", "gzip");
  // docker-archive: the same layer decompressed.
  const auto d = compare_stored_layers(oci_gzip, stored_layer(media::docker_layer, "plain", "none"), 0);
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST(cause_name(d->cause) == std::string("format"));
  BOOST_TEST(d->normalizable);
  BOOST_TEST(attribute_names(*d) == "media_type,compression,blob_size,blob_digest");
  BOOST_TEST(d->attributes[3].second.second == digest::sha256_digest("plain")); // never empty
  // The same bytes under another media type (podman's docker-dir says ".tar.gzip" of a plain tar).
  const auto renamed = compare_stored_layers(stored_layer(media::docker_layer, "plain", "none"),
                                             stored_layer(media::docker_layer_gzip, "plain", "none"), 2);
  BOOST_REQUIRE(renamed.has_value());
  BOOST_TEST(cause_name(renamed->cause) == std::string("format"));
  BOOST_TEST(*renamed->layer == 2);
  // Compressed on both sides, differently: the compressor, not the transport.
  const auto recompressed = compare_stored_layers(oci_gzip, stored_layer(media::oci_layer_gzip, "gz-by-go", "gzip"), 0);
  BOOST_REQUIRE(recompressed.has_value());
  BOOST_TEST(cause_name(recompressed->cause) == std::string("compression"));
  const auto zstd = compare_stored_layers(oci_gzip, stored_layer(media::oci_layer_zstd, "zst", "zstd"), 0);
  BOOST_TEST(cause_name(zstd->cause) == std::string("compression"));
  // Nothing to say.
  BOOST_TEST(!compare_stored_layers(oci_gzip, oci_gzip, 0).has_value());
}

BOOST_AUTO_TEST_CASE(manifest_schemas_and_containers_are_format_not_manifest_fields)
{
  const auto oci = loaded_image(image::ImageRef::Kind::oci, media::oci_manifest);
  std::vector<Difference> out;
  compare_image_documents(oci, loaded_image(image::ImageRef::Kind::docker_archive, ""), out);
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(cause_name(out[0].cause) == std::string("format"));
  BOOST_TEST(out[0].path == "manifest:");
  BOOST_TEST(attribute_names(out[0]) == "container,manifest_media_type");
  BOOST_TEST(out[0].attributes[0].second.first == "oci");
  BOOST_TEST(out[0].attributes[0].second.second == "docker-archive");
  BOOST_TEST(out[0].attributes[1].second.second.is_null());

  out.clear();
  compare_image_documents(oci, loaded_image(image::ImageRef::Kind::dir_transport, media::docker_manifest), out);
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(attribute_names(out[0]) == "container,manifest_media_type,config_media_type");

  // One container, one schema: no record at all (the layers say the rest).
  out.clear();
  compare_image_documents(oci, loaded_image(image::ImageRef::Kind::oci_archive, media::oci_manifest), out);
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(annotations_are_manifest_unless_the_other_format_cannot_hold_them)
{
  const image::Json a41 = {{"annotations", {{"org.opencontainers.image.revision", "41"}}}};
  const image::Json a42 = {{"annotations", {{"org.opencontainers.image.revision", "42"}}}};
  std::vector<Difference> out;
  compare_image_documents(loaded_image(image::ImageRef::Kind::oci, media::oci_manifest, a41),
                          loaded_image(image::ImageRef::Kind::oci, media::oci_manifest, a42), out);
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(cause_name(out[0].cause) == std::string("manifest"));
  BOOST_TEST(out[0].path == "manifest:/annotations");
  BOOST_TEST(!out[0].normalizable);

  out.clear();
  compare_image_documents(loaded_image(image::ImageRef::Kind::oci, media::oci_manifest, a41),
                          loaded_image(image::ImageRef::Kind::dir_transport, media::docker_manifest), out);
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(cause_name(out[0].cause) == std::string("format"));
  BOOST_TEST(attribute_names(out[0]) == "container,manifest_media_type,config_media_type,manifest.annotations");
}

BOOST_AUTO_TEST_CASE(a_config_re_encoded_is_format_a_config_changed_is_not)
{
  const auto a = loaded_image(image::ImageRef::Kind::oci, media::oci_manifest);
  // skopeo's re-encoding of a Docker config: the same JSON, keys in another order.
  const std::string reordered = R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}})";
  std::vector<Difference> out;
  compare_image_documents(a, loaded_image(image::ImageRef::Kind::oci, media::oci_manifest, image::Json::object(), reordered),
                          out);
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(cause_name(out[0].cause) == std::string("format"));
  BOOST_TEST(out[0].path == "config:");
  BOOST_TEST(attribute_names(out[0]) == "config_digest,config_size");
  // Another value is no encoding: left to the config comparison (config-field).
  out.clear();
  const std::string changed = R"({"architecture":"arm64","os":"linux","rootfs":{"diff_ids":[],"type":"layers"}})";
  compare_image_documents(a, loaded_image(image::ImageRef::Kind::oci, media::oci_manifest, image::Json::object(), changed),
                          out);
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(the_hint_says_what_the_transport_did)
{
  const auto oci = loaded_image(image::ImageRef::Kind::oci, media::oci_manifest);
  std::vector<Difference> out;
  compare_image_documents(oci, loaded_image(image::ImageRef::Kind::docker_archive, ""), out);
  out.push_back(*compare_stored_layers(stored_layer(media::oci_layer_gzip, "gz", "gzip"), stored_layer(media::docker_layer, "t", "none"), 0));
  std::vector<const Difference*> records;
  for (const auto& d : out) records.push_back(&d);
  BOOST_TEST(format_hint(records) ==
             "the same image held in another format (oci vs docker-archive; manifest OCI vs none "
             "(docker-archive); 1 layer stored uncompressed in one, compressed in the other): what a transport does, "
             "not content; `reproimg normalize` writes both as the same image");
}

BOOST_AUTO_TEST_SUITE_END()
