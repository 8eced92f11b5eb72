// report: every format renders a diff result deterministically, escaping what it shows.
#include "diff/diff.hpp"
#include "report/report.hpp"
#include "tests/support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>

using namespace reproimg;

namespace {

// A pax tar of regular files (path, content), written with libarchive.
void write_tar(const std::string& file, const std::vector<std::pair<std::string, std::string>>& files)
{
  archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  BOOST_REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
  for (const auto& [path, content] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1000, 0);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    BOOST_REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

} // namespace

BOOST_AUTO_TEST_SUITE(report_formats)

BOOST_AUTO_TEST_CASE(reports_escape_what_they_show)
{
  test::TempDir dir;
  write_tar(dir.file("a.tar"), {{"<b>&.txt", "1\n"}});
  write_tar(dir.file("b.tar"), {{"<b>&.txt", "2\n"}});
  const auto r = diff::run_diff(dir.file("a.tar"), dir.file("b.tar"), {});
  const std::string html = report::report_html(r);
  BOOST_TEST(html.find("<b>&") == std::string::npos);
  BOOST_TEST(html.find("&lt;b&gt;&amp;.txt") != std::string::npos);
  BOOST_TEST(report::report_markdown(r).find("| `content` | 1 | no |") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
