// The system's failures met while reading a rootfs (an extended attribute that cannot be read, a
// listing cut short, a read that meets EIO) are errors that name the file, never a silent loss.
#include "readers/dir_reader.hpp"
#include "readers/tar_reader.hpp"
#include "tests/fault_injection.hpp"
#include "tests/support.hpp"
#include "tests/tar_fixture.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <vector>

using namespace reproimg;
using test::FailingCall;
using test::Fault;
using test::InjectedFault;

// Names no other suite uses: a unity build puts several suites in one file.
namespace {

// Reads every entry's content; keeps the paths.
class ReadEveryEntry : public readers::EntryVisitor {
public:
  void on_entry(readers::SourceEntry& e, readers::EntryData& data) override
  {
    paths.push_back(e.path);
    test::StringSink sink;
    data.read(sink, 0);
  }
  void on_warning(const std::string& message) override { warnings.push_back(message); }
  std::vector<std::string> paths;
  std::vector<std::string> warnings;
};

// rootfs/etc/passwd, rootfs/usr/bin/tool: a tree with a file at two depths.
struct FaultyRootfs {
  FaultyRootfs()
  {
    ::mkdir(dir.file("rootfs").c_str(), 0755);
    ::mkdir(dir.file("rootfs/etc").c_str(), 0755);
    ::mkdir(dir.file("rootfs/usr").c_str(), 0755);
    ::mkdir(dir.file("rootfs/usr/bin").c_str(), 0755);
    util::write_file_atomic(dir.file("rootfs/etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
    util::write_file_atomic(dir.file("rootfs/usr/bin/tool"), std::string(100000, 't'));
  }
  std::string root() const { return dir.file("rootfs"); }
  test::TempDir dir;
};

// The error read_directory throws for the tree (none: an empty string).
std::string read_directory_error(const FaultyRootfs& fs, ReadEveryEntry& visitor, bool* io_error = nullptr)
{
  util::Progress quiet(util::ProgressMode::off, "");
  try {
    readers::read_directory(fs.root(), visitor, quiet);
  } catch (const util::IoError& e) {
    if (io_error) *io_error = true;
    return e.what();
  } catch (const util::Error& e) {
    return e.what();
  }
  return "";
}

bool says(const std::string& s, const std::string& part)
{
  return s.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(read_faults)

BOOST_AUTO_TEST_CASE(an_xattr_that_cannot_be_read_is_an_error_naming_the_file)
{
  for (const int error : {EIO, EACCES, EPERM}) {
    FaultyRootfs fs;
    ReadEveryEntry visitor;
    const InjectedFault fault(fs.root() + "/usr/bin/tool", Fault{FailingCall::lgetxattr, error});
    const std::string message = read_directory_error(fs, visitor);
    BOOST_TEST_CONTEXT(message)
    {
      BOOST_TEST(says(message, fs.root() + "/usr/bin/tool: "));
      BOOST_TEST(says(message, "cannot read the extended attribute 'user.injected'"));
      BOOST_TEST(says(message, std::strerror(error)));
      BOOST_TEST(fault.failures() > 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(xattrs_that_cannot_be_listed_are_an_error_unless_the_file_system_has_none)
{
  for (const int error : {EIO, EACCES}) {
    FaultyRootfs fs;
    ReadEveryEntry visitor;
    const InjectedFault fault(fs.root() + "/etc/passwd", Fault{FailingCall::llistxattr, error});
    const std::string message = read_directory_error(fs, visitor);
    BOOST_TEST(says(message, fs.root() + "/etc/passwd: cannot list the extended attributes"), message);
  }
  // ENOTSUP: a file system without xattrs has none to lose; the tree is read whole.
  FaultyRootfs fs;
  ReadEveryEntry visitor;
  const InjectedFault fault(fs.root() + "/etc/passwd", Fault{FailingCall::llistxattr, ENOTSUP});
  BOOST_TEST(read_directory_error(fs, visitor) == "");
  BOOST_TEST(visitor.paths.size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_listing_cut_short_is_an_error_naming_the_directory)
{
  // At once, and after some names were listed (the rest would be lost).
  for (const std::uint64_t after : {0u, 1u, 2u}) {
    FaultyRootfs fs;
    ReadEveryEntry visitor;
    const InjectedFault fault(fs.root() + "/usr", Fault{FailingCall::readdir, EIO, after});
    bool io_error = false;
    const std::string message = read_directory_error(fs, visitor, &io_error);
    BOOST_TEST_CONTEXT("after " << after << ": " << message)
    {
      BOOST_TEST(io_error);
      BOOST_TEST(says(message, fs.root() + "/usr: cannot list directory: " + std::strerror(EIO)));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_file_whose_read_fails_is_an_error_naming_it)
{
  for (const std::uint64_t after : {0u, 4096u}) {
    FaultyRootfs fs;
    ReadEveryEntry visitor;
    const InjectedFault fault(fs.root() + "/usr/bin/tool", Fault{FailingCall::read, EIO, after});
    bool io_error = false;
    const std::string message = read_directory_error(fs, visitor, &io_error);
    BOOST_TEST(io_error, message);
    BOOST_TEST(says(message, fs.root() + "/usr/bin/tool: cannot read"), message);
  }
}

BOOST_AUTO_TEST_CASE(a_tar_whose_read_fails_inside_an_entry_is_an_io_error_in_that_entry)
{
  // Through libarchive's read callback: the IoError is kept as one when the entry is named (a
  // caller that tries an input as an archive must not take it for "not an archive").
  test::TempDir dir;
  test::write_tar(dir.file("layer.tar"), {{"a", std::string(100, 'a')}, {"big", std::string(300000, 'x')}});
  for (const auto call : {readers::SourceOffsets::offered, readers::SourceOffsets::not_offered}) {
    const InjectedFault fault(dir.file("layer.tar"), Fault{FailingCall::read, EIO, 200000});
    util::Fd fd = util::open_read(dir.file("layer.tar"));
    readers::TarInput input;
    input.name = dir.file("layer.tar");
    input.fd = fd.get();
    ReadEveryEntry visitor;
    util::Progress quiet(util::ProgressMode::off, "");
    std::string message;
    bool io_error = false;
    try {
      readers::read_tar(input, visitor, quiet, {call});
    } catch (const util::IoError& e) {
      io_error = true;
      message = e.what();
    } catch (const util::Error& e) {
      message = e.what();
    }
    BOOST_TEST_CONTEXT(message)
    {
      BOOST_TEST(io_error);
      BOOST_TEST(says(message, std::strerror(EIO)));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
