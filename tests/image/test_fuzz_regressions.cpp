// Image-reader inputs found by the fuzz targets (tests/fuzz), each reduced to the smallest case.
#include "digest/sha256.hpp"
#include "image/image_normalize.hpp"
#include "image/image_source.hpp"
#include "tests/oci_layout_fixture.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

using namespace reproimg;
using namespace reproimg::image;

namespace {

using test::k_manifest_type;
using test::Layout;

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

BOOST_AUTO_TEST_SUITE_END()
