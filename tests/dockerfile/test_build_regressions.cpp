// Builder inputs found by the fuzz targets (tests/fuzz), each reduced to the smallest case.
#include "dockerfile/build.hpp"
#include "normalize/report.hpp"
#include "tests/oci_layout_fixture.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg;
using test::k_manifest_type;
using test::Layout;

BOOST_AUTO_TEST_SUITE(build_fuzz_regressions)

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
    dockerfile::BuildOptions options;
    options.platform = image::Platform{"linux", "amd64", ""};
    normalize::Report report;
    std::string message;
    try {
      dockerfile::build_image(context.path(), options, context.file("out"), report);
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
