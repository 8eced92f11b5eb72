// The system's failures met by `reproimg build` (a build context directory whose listing is cut
// short, an ADD archive whose read meets EIO) are errors that say so, with the Dockerfile line:
// never a layer that silently lacks files, never an archive copied as a plain file instead.
#include "dockerfile/build.hpp"
#include "normalize/report.hpp"
#include "tests/fault_injection.hpp"
#include "tests/support.hpp"
#include "tests/tar_fixture.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <sys/stat.h>

using namespace reproimg;
using test::FailingCall;
using test::Fault;
using test::InjectedFault;

// Names no other suite uses: a unity build puts several suites in one file.
namespace {

struct BuildOutcome {
  bool io_error = false;
  std::string message; // empty: the build succeeded
};

// Builds context's Dockerfile into out.
BuildOutcome build_outcome(const test::TempDir& context, const std::string& out)
{
  dockerfile::BuildOptions options;
  options.platform = image::Platform{"linux", "amd64", ""};
  options.layer.progress = util::ProgressMode::off;
  normalize::Report report;
  BuildOutcome o;
  try {
    dockerfile::build_image(context.path(), options, out, report);
  } catch (const util::IoError& e) {
    o.io_error = true;
    o.message = e.what();
  } catch (const util::Error& e) {
    o.message = e.what();
  }
  return o;
}

bool says(const std::string& s, const std::string& part)
{
  return s.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(build_faults)

BOOST_AUTO_TEST_CASE(a_context_directory_whose_listing_fails_is_an_error_of_the_copy)
{
  for (const std::uint64_t after : {0u, 3u}) {
    test::TempDir context;
    test::TempDir out;
    ::mkdir(context.file("app").c_str(), 0755);
    for (const char* name : {"a", "b", "c", "d"}) {
      util::write_file_atomic(context.file(std::string("app/") + name), name);
    }
    util::write_file_atomic(context.file("Dockerfile"), "FROM scratch\nCOPY app /app/\n");
    const InjectedFault fault(context.file("app"), Fault{FailingCall::readdir, EIO, after});
    const BuildOutcome o = build_outcome(context, out.file("image"));
    BOOST_TEST_CONTEXT("after " << after << " names: " << o.message)
    {
      BOOST_TEST(o.io_error);
      BOOST_TEST(says(o.message, "Dockerfile:2: COPY: "));
      BOOST_TEST(says(o.message, context.file("app") + ": cannot list directory: " + std::strerror(EIO)));
      BOOST_TEST(!test::exists(out.file("image")));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_add_archive_whose_read_fails_is_an_error_not_a_plain_file)
{
  // Where the read fails: at the first byte (the look at whether it is an archive meets it, once:
  // a second read would succeed and copy the archive as a file) and inside an entry's data (the
  // extraction meets it), and every time from there.
  const Fault faults[] = {
      {FailingCall::read, EIO, 0, 1},
      {FailingCall::read, EIO, 0},
      {FailingCall::read, EIO, 200000, 1},
      {FailingCall::read, EIO, 200000},
  };
  for (const Fault& f : faults) {
    test::TempDir context;
    test::TempDir out;
    test::write_tar(context.file("files.tar"), {{"etc/motd", "hello\n"}, {"usr/share/big", std::string(300000, 'x')}});
    util::write_file_atomic(context.file("Dockerfile"), "FROM scratch\nADD files.tar /\n");
    const InjectedFault fault(context.file("files.tar"), f);
    const BuildOutcome o = build_outcome(context, out.file("image"));
    BOOST_TEST_CONTEXT("EIO after " << f.after << " bytes, " << f.times << " times: " << o.message)
    {
      BOOST_TEST(fault.failures() > 0u);
      BOOST_TEST(o.io_error);
      BOOST_TEST(says(o.message, "Dockerfile:2: ADD: "));
      BOOST_TEST(says(o.message, std::strerror(EIO)));
      BOOST_TEST(!test::exists(out.file("image")));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_same_add_without_a_fault_extracts_the_archive)
{
  // The control: what the cases above refuse is built when the reads succeed.
  test::TempDir context;
  test::TempDir out;
  test::write_tar(context.file("files.tar"), {{"etc/motd", "hello\n"}, {"usr/share/big", std::string(300000, 'x')}});
  util::write_file_atomic(context.file("Dockerfile"), "FROM scratch\nADD files.tar /\n");
  const BuildOutcome o = build_outcome(context, out.file("image"));
  BOOST_TEST(o.message == "");
  BOOST_TEST(test::exists(out.file("image") + "/index.json"));
}

BOOST_AUTO_TEST_SUITE_END()
