// Tests for util/file: the atomic output file, the buffered fd sink and exact positional reads.
#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace reproimg;

namespace {

std::string dirname_of(const std::string& path)
{
  return path.substr(0, path.rfind('/'));
}

unsigned permissions_of(const std::string& path)
{
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// bytes[i] = i mod 251: no two nearby positions hold the same byte, so a shifted copy shows.
std::string pattern(size_t size, size_t start = 0)
{
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>((start + i) % 251);
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(atomic_file)

BOOST_AUTO_TEST_CASE(temp_file_is_in_the_same_directory_and_target_is_absent_until_commit)
{
  test::TempDir dir;
  const std::string target = dir.file("out.tar");
  util::AtomicFile f(target);
  BOOST_TEST(f.path() == target);
  BOOST_TEST(dirname_of(f.temp_path()) == dir.path());
  BOOST_TEST(f.temp_path() != target);
  BOOST_TEST(test::exists(f.temp_path()));
  util::write_all(f.fd(), "hello", 5, target);
  BOOST_TEST(!test::exists(target));
}

BOOST_AUTO_TEST_CASE(destroyed_without_commit_leaves_nothing)
{
  test::TempDir dir;
  const std::string target = dir.file("out.tar");
  std::string temp;
  {
    util::AtomicFile f(target);
    temp = f.temp_path();
    util::write_all(f.fd(), "partial", 7, target);
  }
  BOOST_TEST(!test::exists(temp));
  BOOST_TEST(!test::exists(target));
  BOOST_TEST(dir.list().empty());
}

BOOST_AUTO_TEST_CASE(commit_renames_the_temp_file_into_place_with_its_content_and_mode)
{
  test::TempDir dir;
  const std::string target = dir.file("out.tar");
  std::string temp;
  {
    util::AtomicFile f(target, 0640);
    temp = f.temp_path();
    util::write_all(f.fd(), "complete", 8, target);
    f.commit();
    BOOST_TEST(test::exists(target));
    BOOST_TEST(!test::exists(temp));
  }
  // Destroying a committed file must not remove what it renamed into place.
  BOOST_TEST(util::read_file(target) == "complete");
  BOOST_TEST(permissions_of(target) == 0640u);
  BOOST_TEST(dir.list() == std::vector<std::string>{"out.tar"});
}

BOOST_AUTO_TEST_CASE(an_existing_file_stays_intact_until_commit_replaces_it)
{
  test::TempDir dir;
  const std::string target = dir.file("out.tar");
  util::write_file_atomic(target, "old");
  {
    util::AtomicFile f(target);
    util::write_all(f.fd(), "new content", 11, target);
    BOOST_TEST(util::read_file(target) == "old");
    f.commit();
  }
  BOOST_TEST(util::read_file(target) == "new content");
  {
    util::AtomicFile abandoned(target);
    util::write_all(abandoned.fd(), "never", 5, target);
  }
  BOOST_TEST(util::read_file(target) == "new content");
  BOOST_TEST(dir.list() == std::vector<std::string>{"out.tar"});
}

BOOST_AUTO_TEST_CASE(a_command_never_replaces_a_file_it_read)
{
  test::TempDir dir;
  const std::string input = dir.file("in.tar");
  util::write_file_atomic(input, "the input");
  const std::string link = dir.file("link.tar"); // the same file by another name
  BOOST_REQUIRE(::link(input.c_str(), link.c_str()) == 0);
  {
    const util::InputGuard guard;
    { util::Fd fd = util::open_read(input); }
    BOOST_CHECK_THROW(util::AtomicFile early(link), util::Error); // said before any work
    util::write_file_atomic(dir.file("other.tar"), "an output"); // another file: written
    std::string message;
    try {
      util::write_file_atomic(input, "would destroy it");
    } catch (const util::Error& e) {
      message = e.what();
    }
    BOOST_TEST(message.find("is an input of this command") != std::string::npos, message);
    // An output made before its file was read (a command creates its outputs first): refused at commit.
    const std::string later = dir.file("later.tar");
    util::write_file_atomic(later, "read later");
    util::AtomicFile out(later);
    util::write_all(out.fd(), "x", 1, later);
    { util::Fd fd = util::open_read(later); }
    BOOST_CHECK_THROW(out.commit(), util::Error);
    BOOST_TEST(util::read_file(later) == "read later");
    BOOST_TEST(util::read_file(input) == "the input");
  }
  BOOST_TEST(dir.list() == (std::vector<std::string>{"in.tar", "later.tar", "link.tar", "other.tar"})); // no temp left
  util::write_file_atomic(input, "replaced"); // no guard: a library call may
  BOOST_TEST(util::read_file(input) == "replaced");
}

BOOST_AUTO_TEST_CASE(write_file_atomic_writes_exact_bytes_and_mode)
{
  test::TempDir dir;
  const std::string target = dir.file("blob");
  const std::string content = std::string("a\0b\n", 4) + pattern(100000);
  util::write_file_atomic(target, content, 0600);
  BOOST_TEST(util::read_file(target) == content);
  BOOST_TEST(permissions_of(target) == 0600u);
  BOOST_TEST(dir.list() == std::vector<std::string>{"blob"});

  util::write_file_atomic(target, "");
  BOOST_TEST(util::read_file(target).empty());
  BOOST_TEST(permissions_of(target) == 0644u);
}

BOOST_AUTO_TEST_CASE(creating_in_a_missing_directory_throws_naming_the_output)
{
  test::TempDir dir;
  const std::string target = dir.file("missing/out.tar");
  try {
    util::AtomicFile f(target);
    BOOST_FAIL("AtomicFile in a missing directory did not throw");
  } catch (const util::Error& e) {
    BOOST_TEST(std::string(e.what()).find(target) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(interrupt_cleanup_removes_temp_files_and_directories_in_flight)
{
  test::TempDir dir;
  util::AtomicFile first(dir.file("a"));
  util::AtomicFile second(dir.file("b"));
  util::TempDir staging(dir.file("image.tmp."));
  util::write_file_atomic(staging.path() + "/blob", "data");
  util::AtomicFile committed(dir.file("c"));
  committed.commit();
  BOOST_TEST(dir.list().size() == 4u);
  util::remove_temp_paths_in_flight();
  BOOST_TEST(!test::exists(first.temp_path()));
  BOOST_TEST(!test::exists(second.temp_path()));
  BOOST_TEST(!test::exists(staging.path()));
  // What was renamed into place is no longer temporary.
  BOOST_TEST(dir.list() == std::vector<std::string>{"c"});
}

BOOST_AUTO_TEST_CASE(a_released_temp_directory_is_not_removed_on_an_interrupt)
{
  test::TempDir dir;
  std::string kept;
  {
    util::TempDir staging(dir.file("out.tmp."));
    kept = staging.path();
    staging.release();
  }
  util::remove_temp_paths_in_flight();
  BOOST_TEST(test::exists(kept));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fd_sink)

BOOST_AUTO_TEST_CASE(buffered_writes_of_every_size_give_the_exact_bytes)
{
  test::TempDir dir;
  const std::string path = dir.file("sink");
  util::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  BOOST_REQUIRE(fd.valid());
  const size_t buffer = 16;
  util::FdSink sink(fd.get(), path, buffer);
  // Sizes below, at and above the buffer size, in orders that leave the buffer part-full before
  // a write that does not fit and before one that bypasses it.
  const size_t sizes[] = {0, 1, 15, 1, 16, 3, 17, 5, 40, 16, 0, 2, 31, 14, 1};
  std::string expected;
  for (size_t n : sizes) {
    const std::string piece = pattern(n, expected.size());
    sink.write(piece.data(), piece.size());
    expected += piece;
    BOOST_TEST(sink.bytes_written() == expected.size());
    // Nothing is written that was not given, and at most one buffer's worth is held back.
    const std::string on_disk = util::read_file(path);
    BOOST_TEST(on_disk.size() <= expected.size());
    BOOST_TEST(expected.size() - on_disk.size() <= buffer);
    BOOST_TEST(on_disk == expected.substr(0, on_disk.size()));
  }
  sink.finish();
  BOOST_TEST(util::read_file(path) == expected);
}

BOOST_AUTO_TEST_CASE(small_writes_stay_buffered_until_finish)
{
  test::TempDir dir;
  const std::string path = dir.file("sink");
  util::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  BOOST_REQUIRE(fd.valid());
  util::FdSink sink(fd.get(), path, 1024);
  util::ByteSink& as_sink = sink;
  as_sink.write("abc");
  as_sink.write("def");
  BOOST_TEST(util::read_file(path).empty());
  sink.finish();
  BOOST_TEST(util::read_file(path) == "abcdef");
  // A second finish() has nothing left to write.
  sink.finish();
  BOOST_TEST(util::read_file(path) == "abcdef");
  // One byte left in the buffer is written too.
  as_sink.write("g");
  sink.finish();
  BOOST_TEST(util::read_file(path) == "abcdefg");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(file_reads)

BOOST_AUTO_TEST_CASE(pread_exact_reads_the_requested_range)
{
  test::TempDir dir;
  const std::string path = dir.file("data");
  util::write_file_atomic(path, "0123456789");
  util::Fd fd = util::open_read(path);
  char buf[10] = {};
  util::pread_exact(fd.get(), buf, 4, 3, path);
  BOOST_TEST(std::string(buf, 4) == "3456");
  util::pread_exact(fd.get(), buf, 5, 5, path); // up to the last byte exactly
  BOOST_TEST(std::string(buf, 5) == "56789");
  util::pread_exact(fd.get(), buf, 0, 10, path);
}

BOOST_AUTO_TEST_CASE(pread_exact_throws_at_end_of_file_naming_file_and_offset)
{
  test::TempDir dir;
  const std::string path = dir.file("data");
  util::write_file_atomic(path, "0123456789");
  util::Fd fd = util::open_read(path);
  char buf[16] = {};
  try {
    util::pread_exact(fd.get(), buf, 5, 8, path);
    BOOST_FAIL("reading past the end did not throw");
  } catch (const util::Error& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find(path) != std::string::npos, msg);
    BOOST_TEST(msg.find("at byte 10") != std::string::npos, msg);
    BOOST_TEST(msg.find("unexpected end of file") != std::string::npos, msg);
    BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(util::ExitCode::bad_input));
  }
  BOOST_CHECK_THROW(util::pread_exact(fd.get(), buf, 1, 10, path), util::Error);
  BOOST_CHECK_THROW(util::pread_exact(fd.get(), buf, 1, 1000, path), util::Error);
}

BOOST_AUTO_TEST_CASE(read_full_returns_a_short_count_only_at_end_of_file)
{
  test::TempDir dir;
  const std::string path = dir.file("data");
  util::write_file_atomic(path, "0123456789");
  util::Fd fd = util::open_read(path);
  char buf[8] = {};
  BOOST_TEST(util::read_full(fd.get(), buf, 8, path) == 8u);
  BOOST_TEST(std::string(buf, 8) == "01234567");
  BOOST_TEST(util::read_full(fd.get(), buf, 8, path) == 2u);
  BOOST_TEST(std::string(buf, 2) == "89");
  BOOST_TEST(util::read_full(fd.get(), buf, 8, path) == 0u);
}

BOOST_AUTO_TEST_CASE(open_read_of_a_missing_file_throws_naming_it)
{
  test::TempDir dir;
  const std::string path = dir.file("absent");
  try {
    const util::Fd fd = util::open_read(path);
    BOOST_FAIL("opening a missing file did not throw");
  } catch (const util::Error& e) {
    BOOST_TEST(std::string(e.what()).find(path) != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
