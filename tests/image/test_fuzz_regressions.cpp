// Image-reader inputs found by the fuzz targets (tests/fuzz), each reduced to the smallest case.
#include "digest/sha256.hpp"
#include "image/build.hpp"
#include "image/image_normalize.hpp"
#include "image/image_source.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

using namespace reproimg;
using namespace reproimg::image;

namespace {

// An OCI layout in a temporary directory, built document by document.
class Layout {
public:
  Layout()
  {
    ::mkdir(m_dir.file("blobs").c_str(), 0755);
    ::mkdir(m_dir.file("blobs/sha256").c_str(), 0755);
    util::write_file_atomic(m_dir.file("oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  }
  // Stores a blob; returns its descriptor fields as JSON text: "digest":"...","size":N.
  std::string blob(const std::string& bytes)
  {
    const std::string digest = digest::sha256_digest(bytes);
    util::write_file_atomic(m_dir.file("blobs/sha256/" + digest.substr(7)), bytes);
    return "\"digest\":\"" + digest + "\",\"size\":" + std::to_string(bytes.size());
  }
  // A manifest with no layers around config; returns its descriptor fields.
  std::string image(const std::string& config)
  {
    return blob(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)" +
                blob(config) + R"(},"layers":[]})");
  }
  void index(const std::string& manifests)
  {
    util::write_file_atomic(m_dir.file("index.json"), R"({"schemaVersion":2,"manifests":[)" + manifests + "]}");
  }
  const std::string& path() const { return m_dir.path(); }
  Image load() const
  {
    const ImageRef ref{ImageRef::Kind::oci, m_dir.path(), ""};
    return load_image(*ImageStore::open(ref), ref, std::nullopt);
  }

private:
  test::TempDir m_dir;
};

const char* const k_manifest_type = R"("mediaType":"application/vnd.oci.image.manifest.v1+json",)";

std::string error_of(const Layout& layout)
{
  try {
    layout.load();
  } catch (const util::Error& e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(image_fuzz_regressions)

// A config whose "os" was a number escaped from `digest` and `normalize` as a JSON library
// exception (no file named) instead of an error about the config.
BOOST_AUTO_TEST_CASE(config_platform_fields_that_are_not_strings_are_refused_as_bad_input)
{
  for (const std::string field : {R"("os":5)", R"("architecture":[])", R"("variant":{})"}) {
    Layout layout;
    layout.index("{" + std::string(k_manifest_type) +
                 layout.image("{" + field + R"(,"rootfs":{"type":"layers","diff_ids":[]}})") + "}");
    const std::string message = error_of(layout);
    const std::string key = field.substr(0, field.find(':'));
    BOOST_TEST(message.find("image config: " + key + " is not a string") != std::string::npos, message);
  }
  // Strings are read as before.
  Layout good;
  good.index("{" + std::string(k_manifest_type) +
             good.image(R"({"os":"linux","architecture":"arm64","rootfs":{"type":"layers","diff_ids":[]}})") + "}");
  const Image img = good.load();
  BOOST_TEST(img.config["architecture"] == "arm64");
}

// Two manifests whose platforms hold numbers and nulls: the choice, and the message listing the
// candidates, used Json::value, which throws on a value that is not a string.
BOOST_AUTO_TEST_CASE(index_platforms_that_are_not_strings_do_not_escape_as_json_exceptions)
{
  Layout layout;
  const std::string config = R"({"rootfs":{"type":"layers","diff_ids":[]}})";
  const std::string manifest = layout.image(config);
  layout.index("{" + std::string(k_manifest_type) + manifest + R"(,"platform":{"os":1,"architecture":null}},)" +
               "{" + k_manifest_type + manifest + R"(,"platform":{"os":"linux","architecture":["amd64"]}})");
  const std::string message = error_of(layout);
  BOOST_TEST(message.find("2 image manifests (untagged ?/?, untagged linux/?)") != std::string::npos, message);
}

// A base image's history entry whose empty_layer is not a boolean escaped from `build FROM` as a
// JSON library exception (Json::value on the entry); now the base is refused in one line.
BOOST_AUTO_TEST_CASE(a_base_image_history_with_wrong_types_is_refused_by_build)
{
  const std::pair<const char*, const char*> cases[] = {
      {R"({"empty_layer":"yes"})", "history entry's empty_layer is not a boolean"},
      {R"({"created_by":7})", "history entry's created_by is not a string"},
      {R"({"empty_layer":true,"created_by":"ok"})", ""},
  };
  for (const auto& c : cases) {
    Layout base;
    base.index("{" + std::string(k_manifest_type) +
               base.image(std::string(R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]},)") +
                          R"("history":[)" + c.first + "]}") +
               "}");
    test::TempDir context;
    util::write_file_atomic(context.file("Dockerfile"), "FROM oci:" + base.path() + "\nCMD [\"true\"]\n");
    image::BuildOptions options;
    options.platform = Platform{"linux", "amd64", ""};
    normalize::Report report;
    std::string message;
    try {
      image::build_image(context.path(), options, context.file("out"), report);
    } catch (const util::Error& e) {
      message = e.what();
    }
    if (*c.second) {
      BOOST_TEST(message.find(c.second) != std::string::npos, c.first << ": " << message);
    } else {
      BOOST_TEST(message == "", c.first << ": " << message);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
