// Tests for the normalisation pipeline (normalize/pipeline, layer, report, raw_stream) on tar files
// written with libarchive into a private temp dir, and read back with libarchive.
#include "digest/sha256.hpp"
#include "normalize/pipeline.hpp"
#include "readers/raw_stream.hpp"
#include "normalize/report.hpp"
#include "tests/codecs.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <clocale>
#include <cstring>
#include <random>
#include <sys/socket.h>
#include <sys/un.h>

using namespace reproimg;
using namespace reproimg::normalize;
using namespace reproimg::readers;
using reproimg::test::StringSink;
using reproimg::test::TempDir;
using reproimg::test::gunzip;
using reproimg::test::gzip;
using reproimg::test::unzstd;
using reproimg::test::zstd;

namespace {

// One entry of a test archive, as libarchive's writer takes it.
struct Spec {
  std::string path;
  unsigned type = AE_IFREG;
  unsigned mode = 0644;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string uname;
  std::string gname;
  std::int64_t mtime = 2000000;
  long mtime_nsec = 0;
  bool other_times = false; // atime and ctime as well (pax interchange writes them)
  std::string content;      // for sparse files: the whole logical content, holes as zeros
  std::string symlink;
  std::string hardlink;
  unsigned devmajor = 0;
  unsigned devminor = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> sparse; // data regions (offset, length)
  std::vector<std::pair<std::string, std::string>> xattrs;
};

Spec file(std::string path, std::string content, unsigned mode = 0644)
{
  Spec s;
  s.path = std::move(path);
  s.content = std::move(content);
  s.mode = mode;
  return s;
}

Spec dir(std::string path, unsigned mode = 0755)
{
  Spec s;
  s.path = std::move(path);
  s.type = AE_IFDIR;
  s.mode = mode;
  return s;
}

Spec symlink_to(std::string path, std::string target)
{
  Spec s;
  s.path = std::move(path);
  s.type = AE_IFLNK;
  s.mode = 0777;
  s.symlink = std::move(target);
  return s;
}

Spec hardlink(std::string path, std::string target)
{
  Spec s;
  s.path = std::move(path);
  s.hardlink = std::move(target);
  return s;
}

// Writes specs as a tar file in the given libarchive format, through an optional filter.
void write_tar(const std::string& path, const std::vector<Spec>& specs, int format = ARCHIVE_FORMAT_TAR_PAX_RESTRICTED,
               int filter = ARCHIVE_FILTER_NONE)
{
  archive* a = archive_write_new();
  BOOST_REQUIRE(a);
  auto check = [&](int rc, const char* what) {
    const char* err = archive_error_string(a);
    BOOST_REQUIRE_MESSAGE(rc == ARCHIVE_OK, what << ": " << (err ? err : "?"));
  };
  check(archive_write_set_format(a, format), "set_format");
  if (filter != ARCHIVE_FILTER_NONE) {
    check(archive_write_add_filter(a, filter), "add_filter");
  }
  check(archive_write_open_filename(a, path.c_str()), "open_filename");
  for (const Spec& s : specs) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, s.path.c_str());
    archive_entry_set_filetype(e, s.type);
    archive_entry_set_perm(e, static_cast<mode_t>(s.mode));
    archive_entry_set_uid(e, s.uid);
    archive_entry_set_gid(e, s.gid);
    if (!s.uname.empty()) {
      archive_entry_copy_uname(e, s.uname.c_str());
    }
    if (!s.gname.empty()) {
      archive_entry_copy_gname(e, s.gname.c_str());
    }
    archive_entry_set_mtime(e, s.mtime, s.mtime_nsec);
    if (s.other_times) {
      archive_entry_set_atime(e, s.mtime + 10, 5);
      archive_entry_set_ctime(e, s.mtime + 20, 7);
    }
    if (!s.symlink.empty()) {
      archive_entry_copy_symlink(e, s.symlink.c_str());
    }
    if (!s.hardlink.empty()) {
      archive_entry_copy_hardlink(e, s.hardlink.c_str());
    }
    if (s.type == AE_IFCHR || s.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e, s.devmajor);
      archive_entry_set_rdevminor(e, s.devminor);
    }
    const bool has_data = s.type == AE_IFREG && s.hardlink.empty();
    archive_entry_set_size(e, has_data ? static_cast<la_int64_t>(s.content.size()) : 0);
    for (const auto& [offset, length] : s.sparse) {
      archive_entry_sparse_add_entry(e, offset, length); // checked against the size: set it first
    }
    BOOST_REQUIRE(archive_entry_sparse_count(e) == static_cast<int>(s.sparse.size()));
    for (const auto& [name, value] : s.xattrs) {
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    }
    check(archive_write_header(a, e), s.path.c_str());
    if (has_data && !s.content.empty()) {
      BOOST_REQUIRE(archive_write_data(a, s.content.data(), s.content.size()) ==
                    static_cast<la_ssize_t>(s.content.size()));
    }
    check(archive_write_finish_entry(a), "finish_entry");
    archive_entry_free(e);
  }
  check(archive_write_close(a), "close");
  archive_write_free(a);
}

struct Normalized {
  std::string bytes;
  LayerResult result;
  Report report;
};

NormalizeOptions quiet_options()
{
  NormalizeOptions o;
  o.progress = util::ProgressMode::off;
  o.policy.epoch = 1000000;
  return o;
}

Normalized run_normalize(const std::string& path, const NormalizeOptions& options = quiet_options())
{
  Normalized out;
  StringSink sink;
  out.result = normalize_layer(LayerSource{LayerSource::Kind::tar, path}, options, &sink, out.report);
  BOOST_TEST(sink.finished == 1);
  out.bytes = std::move(sink.bytes);
  return out;
}

// An entry of a normalised archive, as libarchive reads it back.
struct Read {
  std::string path;
  unsigned type = 0;
  unsigned perm = 0;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string uname;
  std::string gname;
  std::int64_t mtime = 0;
  long mtime_nsec = 0;
  std::int64_t size = 0;
  std::string hardlink;
  std::string symlink;
  unsigned devmajor = 0;
  unsigned devminor = 0;
  std::string data;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

std::string str(const char* s)
{
  return s ? s : "";
}

std::vector<Read> read_back(const std::string& bytes)
{
  std::vector<Read> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  BOOST_REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  for (;;) {
    archive_entry* e = nullptr;
    const int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    BOOST_REQUIRE_MESSAGE(rc == ARCHIVE_OK, "reading back: " << str(archive_error_string(a)));
    Read r;
    r.path = str(archive_entry_pathname(e));
    r.type = archive_entry_filetype(e);
    r.perm = archive_entry_perm(e);
    r.uid = archive_entry_uid(e);
    r.gid = archive_entry_gid(e);
    r.uname = str(archive_entry_uname(e));
    r.gname = str(archive_entry_gname(e));
    r.mtime = archive_entry_mtime(e);
    r.mtime_nsec = archive_entry_mtime_nsec(e);
    r.size = archive_entry_size(e);
    r.hardlink = str(archive_entry_hardlink(e));
    r.symlink = str(archive_entry_symlink(e));
    r.devmajor = static_cast<unsigned>(archive_entry_rdevmajor(e));
    r.devminor = static_cast<unsigned>(archive_entry_rdevminor(e));
    BOOST_TEST(!archive_entry_atime_is_set(e));
    BOOST_TEST(!archive_entry_ctime_is_set(e));
    BOOST_TEST(archive_entry_sparse_count(e) == 0);
    archive_entry_xattr_reset(e);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      r.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
    std::sort(r.xattrs.begin(), r.xattrs.end());
    char buf[65536];
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      BOOST_REQUIRE(n >= 0);
      if (n == 0) {
        break;
      }
      r.data.append(buf, static_cast<size_t>(n));
    }
    out.push_back(std::move(r));
  }
  archive_read_free(a);
  return out;
}

std::vector<std::string> paths_of(const std::vector<Read>& entries)
{
  std::vector<std::string> out;
  for (const Read& r : entries) {
    out.push_back(r.path);
  }
  return out;
}

const Read& find(const std::vector<Read>& entries, const std::string& path)
{
  for (const Read& r : entries) {
    if (r.path == path) {
      return r;
    }
  }
  BOOST_FAIL("no entry " << path << " in the output");
  throw std::logic_error("unreachable");
}

std::string patterned(size_t size, unsigned seed)
{
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (auto& c : out) {
    c = static_cast<char>(rng() & 0xff);
  }
  return out;
}

// Sets LC_ALL for the life of the object; the program starts in "C".
class ScopedLocale {
public:
  explicit ScopedLocale(const char* name) : m_ok(std::setlocale(LC_ALL, name) != nullptr) {}
  ~ScopedLocale() { std::setlocale(LC_ALL, "C"); }
  ScopedLocale(const ScopedLocale&) = delete;
  ScopedLocale& operator=(const ScopedLocale&) = delete;
  bool ok() const { return m_ok; }

private:
  bool m_ok;
};

// The files every equivalence test packs: one of each type, a hardlink pair and a file that spans
// several blocks.
std::vector<Spec> sample_layer()
{
  std::vector<Spec> s;
  s.push_back(dir("etc"));
  s.push_back(file("etc/hostname", "box\n"));
  s.push_back(file("etc/empty", ""));
  s.push_back(dir("usr"));
  s.push_back(dir("usr/bin"));
  s.push_back(file("usr/bin/tool", patterned(3000, 1), 0755));
  s.push_back(hardlink("usr/bin/tool-alias", "usr/bin/tool"));
  s.push_back(symlink_to("bin", "usr/bin"));
  Spec fifo;
  fifo.path = "run/initctl";
  fifo.type = AE_IFIFO;
  fifo.mode = 0600;
  s.push_back(fifo);
  Spec null;
  null.path = "dev/null";
  null.type = AE_IFCHR;
  null.mode = 0666;
  null.devmajor = 1;
  null.devminor = 3;
  s.push_back(null);
  s.push_back(file("var/lib/data.bin", patterned(70000, 2), 0600));
  s.back().uid = 100;
  s.back().gid = 101;
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(canonical_layer)

BOOST_AUTO_TEST_CASE(same_files_in_any_dialect_order_mtime_and_owner_names_give_the_same_bytes)
{
  TempDir tmp;
  const int formats[] = {ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FORMAT_TAR_USTAR,
                         ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE};
  const char* const unames[] = {"", "root", "builder", "nobody"};
  std::optional<Normalized> first;
  for (int variant = 0; variant < 12; ++variant) {
    std::vector<Spec> specs = sample_layer();
    std::mt19937 rng(static_cast<unsigned>(variant));
    for (Spec& s : specs) {
      s.mtime = 2000000 + static_cast<std::int64_t>(rng() % 100000); // all after the epoch: clamped
      s.uname = unames[(variant + rng()) % 4];
      s.gname = unames[(variant + 1) % 4];
      if (variant % 4 == 3) {
        s.mtime_nsec = static_cast<long>(rng() % 1000000000);
        s.other_times = true;
      }
      if (variant % 3 == 1) {
        s.path = "./" + s.path;
        if (!s.hardlink.empty()) {
          s.hardlink = "./" + s.hardlink;
        }
      }
    }
    if (variant % 2 == 1) {
      // The other path of the pair carries the data: after sorting, the first path must anyway.
      std::swap(specs[5].path, specs[6].path);
      specs[6].hardlink = specs[5].path;
    }
    // Any order in which a hardlink follows its target.
    const Spec data_file = specs[5];
    const Spec link = specs[6];
    specs.erase(specs.begin() + 5, specs.begin() + 7);
    std::shuffle(specs.begin(), specs.end(), rng);
    const auto at = specs.begin() + static_cast<long>(rng() % (specs.size() + 1));
    const auto after = specs.insert(at, data_file) + 1;
    specs.insert(after + static_cast<long>(rng() % static_cast<unsigned>(specs.end() - after + 1)), link);
    if (variant % 5 == 2) {
      specs.insert(specs.begin(), dir("./")); // the root entry some tools write
    }

    const std::string path = tmp.file("v" + std::to_string(variant) + ".tar");
    write_tar(path, specs, formats[variant % 4]);
    Normalized n = run_normalize(path);
    BOOST_TEST(n.result.diff_id == digest::sha256_digest(n.bytes));
    BOOST_TEST(n.result.blob_digest == n.result.diff_id);
    BOOST_TEST(n.result.tar_size == n.bytes.size());
    if (!first) {
      first = std::move(n);
      continue;
    }
    BOOST_TEST(n.result.diff_id == first->result.diff_id, "variant " << variant);
    BOOST_TEST((n.bytes == first->bytes), "variant " << variant);
  }

  const std::vector<Read> entries = read_back(first->bytes);
  BOOST_TEST((paths_of(entries) ==
              std::vector<std::string>{"bin", "dev/null", "etc/", "etc/empty", "etc/hostname", "run/initctl", "usr/",
                                       "usr/bin/", "usr/bin/tool", "usr/bin/tool-alias", "var/lib/data.bin"}));
  for (const Read& r : entries) {
    BOOST_TEST(r.mtime == 1000000, r.path);
    BOOST_TEST(r.mtime_nsec == 0, r.path);
    BOOST_TEST(r.uname.empty(), r.path);
    BOOST_TEST(r.gname.empty(), r.path);
  }
  BOOST_TEST(find(entries, "usr/bin/tool").data == patterned(3000, 1));
  BOOST_TEST(find(entries, "usr/bin/tool").perm == 0755u);
  BOOST_TEST(find(entries, "usr/bin/tool-alias").hardlink == "usr/bin/tool");
  BOOST_TEST(find(entries, "bin").symlink == "usr/bin");
  BOOST_TEST(find(entries, "dev/null").type == static_cast<unsigned>(AE_IFCHR));
  BOOST_TEST(find(entries, "dev/null").devmajor == 1u);
  BOOST_TEST(find(entries, "dev/null").devminor == 3u);
  BOOST_TEST(find(entries, "run/initctl").type == static_cast<unsigned>(AE_IFIFO));
  BOOST_TEST(find(entries, "var/lib/data.bin").data == patterned(70000, 2));
  BOOST_TEST(find(entries, "var/lib/data.bin").uid == 100);
  BOOST_TEST(find(entries, "var/lib/data.bin").gid == 101);
  BOOST_TEST(find(entries, "var/lib/data.bin").perm == 0600u);
  // Two zero blocks end the stream, and nothing follows them.
  BOOST_TEST(first->bytes.size() % 512 == 0u);
  BOOST_TEST(first->bytes.substr(first->bytes.size() - 1024) == std::string(1024, '\0'));
  BOOST_TEST(first->bytes.substr(first->bytes.size() - 1536, 512) != std::string(512, '\0'));
}

BOOST_AUTO_TEST_CASE(normalizing_twice_changes_nothing)
{
  TempDir tmp;
  std::vector<Spec> specs = sample_layer();
  specs.push_back(hardlink("aaa/first-link", "usr/bin/tool")); // re-anchored on the first pass
  specs.push_back(file(std::string(120, 'n') + "/caf\xc3\xa9", "long non-ASCII name"));
  specs.push_back(file("old", "before the epoch"));
  specs.back().mtime = -100;
  specs.push_back(file("ping", "p"));
  specs.back().xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)}};
  specs.back().uid = 3000000;
  specs.back().uname = "a-rather-long-user-name-for-a-tar-header";
  {
    ScopedLocale utf8("C.UTF-8"); // for the pax writer to store the name
    BOOST_REQUIRE_MESSAGE(utf8.ok(), "the C.UTF-8 locale is not available");
    write_tar(tmp.file("in.tar"), specs, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  }
  NormalizeOptions o = quiet_options();
  o.policy.keep_names = true;
  const Normalized once = run_normalize(tmp.file("in.tar"), o);
  util::write_file_atomic(tmp.file("once.tar"), once.bytes);
  const Normalized twice = run_normalize(tmp.file("once.tar"), o);
  BOOST_TEST((twice.bytes == once.bytes));
  BOOST_TEST(once.report.count("hardlink") == 1u);
  BOOST_TEST(twice.report.rules().empty());
  BOOST_TEST(twice.report.warnings().empty());
  const std::vector<Read> entries = read_back(once.bytes);
  BOOST_TEST(find(entries, "old").mtime == -100);
  BOOST_TEST(find(entries, "ping").uid == 3000000);
  BOOST_TEST(find(entries, "ping").uname == "a-rather-long-user-name-for-a-tar-header");
  BOOST_TEST(find(entries, "aaa/first-link").data == patterned(3000, 1));
}

BOOST_AUTO_TEST_CASE(entries_are_sorted_by_path_bytes_ignoring_the_directory_slash)
{
  TempDir tmp;
  write_tar(tmp.file("in.tar"),
            {file("z", "z"), file("a/x", "x"), file("a-b", "ab"), dir("a"), file("\xc3\xa9t\xc3\xa9", "e"),
             file("B", "upper"), file("a.txt", "dot")},
            ARCHIVE_FORMAT_TAR_USTAR); // raw name bytes: the pax writer would want them in the locale's charset
  const Normalized n = run_normalize(tmp.file("in.tar"));
  // '-' < '.' < '/' and upper case before lower case; bytes >= 0x80 after ASCII.
  BOOST_TEST((paths_of(read_back(n.bytes)) ==
              std::vector<std::string>{"B", "a/", "a-b", "a.txt", "a/x", "z", "\xc3\xa9t\xc3\xa9"}));
}

BOOST_AUTO_TEST_CASE(a_duplicated_path_keeps_the_last_entry)
{
  TempDir tmp;
  Spec second = file("./etc/conf", "second", 0600);
  second.uid = 7;
  write_tar(tmp.file("in.tar"),
            {file("etc/conf", "first version", 0644), file("etc/other", "o"), second, file("x", "file"), dir("x")});
  const Normalized n = run_normalize(tmp.file("in.tar"));
  const std::vector<Read> entries = read_back(n.bytes);
  BOOST_TEST((paths_of(entries) == std::vector<std::string>{"etc/conf", "etc/other", "x/"}));
  const Read& conf = find(entries, "etc/conf");
  BOOST_TEST(conf.data == "second");
  BOOST_TEST(conf.perm == 0600u);
  BOOST_TEST(conf.uid == 7);
  BOOST_TEST(find(entries, "x/").type == static_cast<unsigned>(AE_IFDIR));
  BOOST_TEST(n.report.count("duplicate-replaced") == 2u);
  BOOST_TEST(n.report.entries_in == 5u);
  BOOST_TEST(n.report.entries_out == 3u);
}

BOOST_AUTO_TEST_CASE(a_hardlink_sorting_before_its_target_carries_the_data_and_the_target_links_to_it)
{
  TempDir tmp;
  for (int format : {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FORMAT_TAR_GNUTAR}) {
    Spec target = file("z/data", "payload", 04755);
    target.uid = 5;
    const std::string path = tmp.file("in" + std::to_string(format) + ".tar");
    write_tar(path, {target, hardlink("a/link", "z/data"), hardlink("m/link", "a/link"), file("b", "other")}, format);
    const Normalized n = run_normalize(path);
    const std::vector<Read> entries = read_back(n.bytes);
    BOOST_TEST((paths_of(entries) == std::vector<std::string>{"a/link", "b", "m/link", "z/data"}));
    const Read& carrier = find(entries, "a/link");
    BOOST_TEST(carrier.type == static_cast<unsigned>(AE_IFREG));
    BOOST_TEST(carrier.hardlink.empty());
    BOOST_TEST(carrier.data == "payload");
    BOOST_TEST(carrier.size == 7);
    BOOST_TEST(carrier.perm == 04755u);
    BOOST_TEST(carrier.uid == 5);
    for (const char* link : {"m/link", "z/data"}) {
      const Read& r = find(entries, link);
      BOOST_TEST(r.hardlink == "a/link", link);
      BOOST_TEST(r.size == 0, link);
      BOOST_TEST(r.data.empty(), link);
    }
    BOOST_TEST(n.report.count("hardlink") == 1u);
  }
}

BOOST_AUTO_TEST_CASE(a_hardlink_to_a_path_replaced_later_keeps_the_old_content)
{
  // Extraction links "b" and "c" to the first "a", then replaces "a": they keep the old data.
  TempDir tmp;
  write_tar(tmp.file("in.tar"), {file("a", "old"), hardlink("b", "a"), hardlink("c", "a"), file("a", "new!")});
  const Normalized n = run_normalize(tmp.file("in.tar"));
  const std::vector<Read> entries = read_back(n.bytes);
  BOOST_TEST((paths_of(entries) == std::vector<std::string>{"a", "b", "c"}));
  BOOST_TEST(find(entries, "a").data == "new!");
  BOOST_TEST(find(entries, "a").hardlink.empty());
  BOOST_TEST(find(entries, "b").data == "old");
  BOOST_TEST(find(entries, "b").hardlink.empty());
  BOOST_TEST(find(entries, "c").hardlink == "b");
}

BOOST_AUTO_TEST_CASE(whiteouts_are_kept_as_empty_regular_files)
{
  TempDir tmp;
  Spec wh = file("etc/.wh.motd", "not empty", 0600);
  wh.uname = "root";
  write_tar(tmp.file("in.tar"), {wh, file("etc/.wh..wh..opq", ""), file("etc/not.wh.x", "kept")});
  const Normalized n = run_normalize(tmp.file("in.tar"));
  const std::vector<Read> entries = read_back(n.bytes);
  BOOST_TEST((paths_of(entries) == std::vector<std::string>{"etc/.wh..wh..opq", "etc/.wh.motd", "etc/not.wh.x"}));
  BOOST_TEST(find(entries, "etc/.wh.motd").type == static_cast<unsigned>(AE_IFREG));
  BOOST_TEST(find(entries, "etc/.wh.motd").size == 0);
  BOOST_TEST(find(entries, "etc/.wh.motd").uname.empty());
  BOOST_TEST(find(entries, "etc/.wh.motd").mtime == 1000000);
  BOOST_TEST(find(entries, "etc/not.wh.x").data == "kept");
  BOOST_TEST(n.report.count("whiteout-emptied") == 1u);
}

BOOST_AUTO_TEST_CASE(xattrs_policy_all_keeps_each_name_once_sorted)
{
  // libarchive's pax writer stores every xattr twice (LIBARCHIVE.xattr.* and SCHILY.xattr.*).
  TempDir tmp;
  Spec f = file("f", "x");
  f.xattrs = {{"user.b", "2"}, {"security.capability", std::string("\x01\x00", 2)}, {"user.a", "1"}};
  write_tar(tmp.file("in.tar"), {f}, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  NormalizeOptions o = quiet_options();
  o.policy.xattrs = XattrPolicy::all;
  const Normalized all = run_normalize(tmp.file("in.tar"), o);
  BOOST_TEST((find(read_back(all.bytes), "f").xattrs ==
              std::vector<std::pair<std::string, std::string>>{
                  {"security.capability", std::string("\x01\x00", 2)}, {"user.a", "1"}, {"user.b", "2"}}));
  const size_t first = all.bytes.find("SCHILY.xattr.security.capability=");
  const size_t second = all.bytes.find("SCHILY.xattr.user.a=");
  const size_t third = all.bytes.find("SCHILY.xattr.user.b=");
  BOOST_TEST((first != std::string::npos && first < second && second < third && third != std::string::npos));
  BOOST_TEST(all.bytes.find("SCHILY.xattr.user.a=", second + 1) == std::string::npos);
  BOOST_TEST(all.bytes.find("LIBARCHIVE.") == std::string::npos);

  o.policy.xattrs = XattrPolicy::none;
  const Normalized none = run_normalize(tmp.file("in.tar"), o);
  BOOST_TEST(find(read_back(none.bytes), "f").xattrs.empty());
  BOOST_TEST(none.report.count("xattr") == 1u);
}

BOOST_AUTO_TEST_CASE(a_truncated_archive_is_refused_naming_the_entry)
{
  TempDir tmp;
  write_tar(tmp.file("full.tar"), {file("first", "1"), file("usr/lib/big.so", patterned(100000, 9))});
  const std::string full = util::read_file(tmp.file("full.tar"));
  // Cut inside big.so's data: its header is at 1024 (first's header and data before it).
  util::write_file_atomic(tmp.file("cut.tar"), full.substr(0, 1536 + 50000));
  util::write_file_atomic(tmp.file("cut.tar.gz"), gzip(full.substr(0, 1536 + 50000)));
  for (const char* name : {"cut.tar", "cut.tar.gz"}) {
    try {
      run_normalize(tmp.file(name));
      BOOST_ERROR(name << ": a truncated archive was accepted");
    } catch (const util::Error& e) {
      const std::string msg = e.what();
      BOOST_TEST(msg.find("usr/lib/big.so") != std::string::npos, msg);
      BOOST_TEST(msg.find(name) != std::string::npos, msg);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_sparse_file_is_written_as_a_regular_file_with_zero_filled_holes)
{
  TempDir tmp;
  Spec sparse;
  sparse.path = "var/lib/sparse.img";
  sparse.content = std::string(3 * 4096 + 100, '\0');
  sparse.content.replace(4096, 10, "helloworld");
  sparse.content.replace(8192, 5, "tail!");
  sparse.sparse = {{4096, 10}, {8192, 5}}; // leading hole, two data runs, trailing hole
  write_tar(tmp.file("in.tar"), {sparse, file("after", "after")}, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  {
    // The input really is sparse: libarchive sees a sparse map.
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    BOOST_REQUIRE(archive_read_open_filename(a, tmp.file("in.tar").c_str(), 10240) == ARCHIVE_OK);
    archive_entry* e = nullptr;
    BOOST_REQUIRE(archive_read_next_header(a, &e) == ARCHIVE_OK);
    BOOST_REQUIRE(archive_entry_sparse_count(e) > 0);
    archive_read_free(a);
  }
  const Normalized n = run_normalize(tmp.file("in.tar"));
  const std::vector<Read> entries = read_back(n.bytes);
  BOOST_TEST((paths_of(entries) == std::vector<std::string>{"after", "var/lib/sparse.img"}));
  const Read& r = find(entries, "var/lib/sparse.img");
  BOOST_TEST(r.type == static_cast<unsigned>(AE_IFREG));
  BOOST_TEST(r.size == static_cast<std::int64_t>(sparse.content.size()));
  BOOST_TEST((r.data == sparse.content));
  BOOST_TEST(find(entries, "after").data == "after");
  BOOST_TEST(n.bytes.find("GNU.sparse") == std::string::npos);
  BOOST_TEST(n.bytes.find("GNUSparseFile") == std::string::npos);
  BOOST_TEST(n.report.count("sparse-expanded") == 1u);
}

BOOST_AUTO_TEST_CASE(a_sparse_file_with_more_holes_than_allowed_is_refused_naming_it)
{
  TempDir tmp;
  Spec sparse;
  sparse.path = "big.img";
  sparse.content = std::string(100000, '\0');
  sparse.content[50000] = 'x';
  sparse.sparse = {{50000, 1}};
  write_tar(tmp.file("in.tar"), {sparse}, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  NormalizeOptions o = quiet_options();
  o.policy.max_sparse_fill = 1000;
  try {
    run_normalize(tmp.file("in.tar"), o);
    BOOST_FAIL("a sparse file over the fill limit was accepted");
  } catch (const util::Error& e) {
    BOOST_TEST(std::string(e.what()).find("big.img") != std::string::npos, e.what());
  }
  o.policy.max_sparse_fill = 99999;
  BOOST_TEST(find(read_back(run_normalize(tmp.file("in.tar"), o).bytes), "big.img").data == sparse.content);
}

BOOST_AUTO_TEST_CASE(sockets_are_dropped_with_a_warning)
{
  // A tar cannot carry a socket (libarchive refuses to write one and never reads one back), so
  // the socket comes from a rootfs directory.
  TempDir tmp;
  const std::string root = tmp.file("rootfs");
  BOOST_REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  util::write_file_atomic(root + "/a", "data");
  const std::string sock_path = root + "/control.sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  BOOST_REQUIRE(sock_path.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  util::Fd sock(::socket(AF_UNIX, SOCK_STREAM, 0));
  BOOST_REQUIRE(sock.valid());
  BOOST_REQUIRE(::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);

  Report report;
  StringSink sink;
  normalize_layer(LayerSource{LayerSource::Kind::directory, root}, quiet_options(), &sink, report);
  const std::vector<Read> entries = read_back(sink.bytes);
  BOOST_TEST((paths_of(entries) == std::vector<std::string>{"a"}));
  BOOST_TEST(report.count("socket-dropped") == 1u);
  BOOST_REQUIRE(report.warnings().size() == 1u);
  BOOST_TEST(report.warnings()[0].find("control.sock") != std::string::npos, report.warnings()[0]);
}

BOOST_AUTO_TEST_CASE(mtime_clamp_keeps_older_times_and_set_forces_the_epoch)
{
  TempDir tmp;
  std::vector<Spec> specs = {file("old", "1"), file("at-epoch", "2"), file("new", "3"), file("frac", "4")};
  specs[0].mtime = 100;
  specs[1].mtime = 1000;
  specs[2].mtime = 5000;
  specs[3].mtime = 500;
  specs[3].mtime_nsec = 500000000;
  write_tar(tmp.file("in.tar"), specs, ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);

  NormalizeOptions clamp = quiet_options();
  clamp.policy.epoch = 1000;
  clamp.policy.mtime = MtimePolicy::clamp;
  const Normalized c = run_normalize(tmp.file("in.tar"), clamp);
  const std::vector<Read> ce = read_back(c.bytes);
  BOOST_TEST(find(ce, "old").mtime == 100);
  BOOST_TEST(find(ce, "at-epoch").mtime == 1000);
  BOOST_TEST(find(ce, "new").mtime == 1000);
  BOOST_TEST(find(ce, "frac").mtime == 500);
  BOOST_TEST(find(ce, "frac").mtime_nsec == 0);
  BOOST_TEST(c.report.count("mtime") == 1u);
  BOOST_TEST(c.report.count("mtime-subsecond") == 1u);

  NormalizeOptions set = clamp;
  set.policy.mtime = MtimePolicy::set;
  const Normalized s = run_normalize(tmp.file("in.tar"), set);
  for (const Read& r : read_back(s.bytes)) {
    BOOST_TEST(r.mtime == 1000, r.path);
    BOOST_TEST(r.mtime_nsec == 0, r.path);
  }
  BOOST_TEST(s.report.count("mtime") == 3u);
}

BOOST_AUTO_TEST_CASE(the_report_counts_what_each_rule_changed)
{
  TempDir tmp;
  auto with = [](Spec s, std::int64_t mtime, std::string uname = "") {
    s.mtime = mtime;
    s.uname = std::move(uname);
    s.gname = s.uname;
    return s;
  };
  Spec caps = file("usr/bin/ping", "ping", 0755);
  caps.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)}, {"user.comment", "dropped"}};
  const std::vector<Spec> specs = {
      with(dir("usr"), 100),                                   // 0
      with(file("usr/bin/tool", "x", 0755), 100, "root"),      // 1  owner-name
      with(dir("etc"), 100),                                   // 2  order
      with(file("etc/machine-id", "0123abcd\n"), 5000),        // 3  mtime, truncate, order
      with(dir("var/log"), 100),                               // 4  exclude
      with(file("var/log/dpkg.log", "log"), 100, "root"),      // 5  exclude (before owner-name)
      with(hardlink("usr/bin/a-tool", "usr/bin/tool"), 100),   // 6  hardlink (sorts before its target)
      with(file("etc/hosts", "h1"), 100, "admin"),             // 7  owner-name
      with(file("etc/hosts", "h2"), 100),                      // 8  duplicate-replaced
      with(caps, 100),                                         // 9  xattr
  };
  write_tar(tmp.file("in.tar"), specs, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  NormalizeOptions o = quiet_options();
  o.policy.epoch = 1000;
  o.policy.excludes = {"var/log"};
  o.policy.truncates = {"/etc/machine-id"};
  const Normalized n = run_normalize(tmp.file("in.tar"), o);

  // Sorted: etc(2) etc/hosts(8) etc/machine-id(3) usr(0) usr/bin/a-tool(6) usr/bin/ping(9)
  // usr/bin/tool(1): three entries come after one read later.
  BOOST_TEST(n.report.count("order") == 3u);
  BOOST_TEST(n.report.count("owner-name") == 2u);
  BOOST_TEST(n.report.count("mtime") == 1u);
  BOOST_TEST(n.report.count("exclude") == 2u);
  BOOST_TEST(n.report.count("truncate") == 1u);
  BOOST_TEST(n.report.count("duplicate-replaced") == 1u);
  BOOST_TEST(n.report.count("hardlink") == 1u);
  BOOST_TEST(n.report.count("xattr") == 1u);
  BOOST_TEST(n.report.count("socket-dropped") == 0u);
  BOOST_TEST(n.report.entries_in == 10u);
  BOOST_TEST(n.report.entries_out == 7u);
  BOOST_TEST(n.report.bytes_out == n.bytes.size());
  BOOST_TEST((n.report.rules().at("exclude").examples == std::vector<std::string>{"var/log", "var/log/dpkg.log"}));
  BOOST_TEST((n.report.rules().at("owner-name").examples == std::vector<std::string>{"usr/bin/tool", "etc/hosts"}));
  BOOST_TEST((n.report.rules().at("truncate").examples == std::vector<std::string>{"etc/machine-id"}));
  BOOST_TEST((n.report.rules().at("hardlink").examples == std::vector<std::string>{"usr/bin/a-tool"}));

  const std::vector<Read> entries = read_back(n.bytes);
  BOOST_TEST((paths_of(entries) == std::vector<std::string>{"etc/", "etc/hosts", "etc/machine-id", "usr/",
                                                            "usr/bin/a-tool", "usr/bin/ping", "usr/bin/tool"}));
  BOOST_TEST(find(entries, "etc/machine-id").size == 0);
  BOOST_TEST(find(entries, "etc/machine-id").type == static_cast<unsigned>(AE_IFREG));
  BOOST_TEST(find(entries, "etc/hosts").data == "h2");
  BOOST_TEST(find(entries, "usr/bin/a-tool").data == "x");
  BOOST_TEST(find(entries, "usr/bin/tool").hardlink == "usr/bin/a-tool");
  BOOST_TEST((find(entries, "usr/bin/ping").xattrs ==
              std::vector<std::pair<std::string, std::string>>{{"security.capability", std::string("\x01\x00\x00\x02", 4)}}));

  const auto doc = nlohmann::json::parse(report_to_json(n.report, o.policy, "in.tar", n.result, "none"));
  BOOST_TEST(doc["changes"]["order"]["count"].get<std::uint64_t>() == 3u);
  BOOST_TEST(doc["changes"]["exclude"]["count"].get<std::uint64_t>() == 2u);
  BOOST_TEST(doc["changes"]["truncate"]["examples"][0].get<std::string>() == "etc/machine-id");
  BOOST_TEST(doc["entries_in"].get<std::uint64_t>() == 10u);
  BOOST_TEST(doc["entries_out"].get<std::uint64_t>() == 7u);
  BOOST_TEST(doc["diff_id"].get<std::string>() == n.result.diff_id);
}

BOOST_AUTO_TEST_CASE(the_json_report_serialises_paths_that_are_not_utf8)
{
  TempDir tmp;
  // Latin-1, a UTF-16 surrogate and an overlong '/' as raw name bytes.
  const std::vector<std::string> names = {"caf\xe9", "x\xed\xa0\x80", "y\xe0\x80\xaf", "ok-\xc3\xa9"};
  std::vector<Spec> specs;
  for (const auto& name : names) {
    specs.push_back(file(name, "c"));
    specs.back().uname = "someone";
  }
  write_tar(tmp.file("in.tar"), specs, ARCHIVE_FORMAT_TAR_USTAR);
  const NormalizeOptions o = quiet_options();
  const Normalized n = run_normalize(tmp.file("in.tar"), o);
  BOOST_TEST(n.report.count("owner-name") == 4u);
  std::string json;
  BOOST_REQUIRE_NO_THROW(json = report_to_json(n.report, o.policy, "in.tar", n.result, "none"));
  const auto doc = nlohmann::json::parse(json);
  const auto& examples = doc["changes"]["owner-name"]["examples"];
  BOOST_REQUIRE(examples.size() == 4u);
  BOOST_TEST(examples[0].get<std::string>() == "caf\\xe9");
  BOOST_TEST(examples[1].get<std::string>() == "x\\xed\\xa0\\x80");
  BOOST_TEST(examples[2].get<std::string>() == "y\\xe0\\x80\\xaf");
  BOOST_TEST(examples[3].get<std::string>() == "ok-\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(a_tiny_memory_limit_spools_to_disk_and_gives_the_same_bytes)
{
  TempDir tmp;
  std::vector<Spec> specs = sample_layer();
  specs.push_back(file("big/two-mib", patterned(2u << 20, 3)));
  specs.push_back(file("big/odd", patterned((1u << 20) + 7, 4)));
  for (int i = 0; i < 20; ++i) {
    specs.push_back(file("small/" + std::to_string(i), patterned(static_cast<size_t>(i * 37), 10u + static_cast<unsigned>(i))));
  }
  std::reverse(specs.begin(), specs.end()); // hardlink before target would dangle: keep it after
  std::stable_partition(specs.begin(), specs.end(), [](const Spec& s) { return s.hardlink.empty(); });
  // Compressed input: the contents cannot be copied from the input file later, so they go to the
  // spool (an uncompressed file is read from where it lies).
  write_tar(tmp.file("in.tar.gz"), specs, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP);
  write_tar(tmp.file("in.tar"), specs, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);

  const Normalized from_file = run_normalize(tmp.file("in.tar"));
  const Normalized spooled_default = run_normalize(tmp.file("in.tar.gz"));
  NormalizeOptions tiny = quiet_options();
  tiny.memory_limit = 10;
  const Normalized spooled_tiny = run_normalize(tmp.file("in.tar.gz"), tiny);
  NormalizeOptions none = quiet_options();
  none.memory_limit = 0;
  const Normalized spooled_none = run_normalize(tmp.file("in.tar.gz"), none);

  BOOST_TEST(spooled_default.result.input_compression == "gzip");
  BOOST_TEST((spooled_tiny.bytes == spooled_default.bytes));
  BOOST_TEST((spooled_none.bytes == spooled_default.bytes));
  BOOST_TEST((from_file.bytes == spooled_default.bytes));
  BOOST_TEST(spooled_tiny.result.diff_id == spooled_default.result.diff_id);
  BOOST_TEST(find(read_back(spooled_tiny.bytes), "big/two-mib").data == patterned(2u << 20, 3));
}

BOOST_AUTO_TEST_CASE(compressed_output_decompresses_to_the_canonical_tar_and_digests_match)
{
  TempDir tmp;
  std::vector<Spec> specs = sample_layer();
  specs.push_back(file("big", patterned(1u << 20, 5)));
  write_tar(tmp.file("in.tar"), specs);
  const Normalized plain = run_normalize(tmp.file("in.tar"));
  BOOST_TEST(plain.result.diff_id == digest::sha256_digest(plain.bytes));

  for (Compression c : {Compression::gzip, Compression::zstd}) {
    NormalizeOptions o = quiet_options();
    o.compression = c;
    const Normalized n = run_normalize(tmp.file("in.tar"), o);
    const std::string tar = c == Compression::gzip ? gunzip(n.bytes) : unzstd(n.bytes);
    BOOST_TEST((tar == plain.bytes), compression_name(c));
    BOOST_TEST(n.bytes.size() < tar.size(), compression_name(c));
    BOOST_TEST(n.result.blob_digest == digest::sha256_digest(n.bytes), compression_name(c));
    BOOST_TEST(n.result.diff_id == digest::sha256_digest(tar), compression_name(c));
    BOOST_TEST(n.result.diff_id == plain.result.diff_id, compression_name(c));
    BOOST_TEST(n.result.blob_size == n.bytes.size(), compression_name(c));
    BOOST_TEST(n.result.tar_size == tar.size(), compression_name(c));
    // Deterministic: a second run gives the same blob.
    BOOST_TEST((run_normalize(tmp.file("in.tar"), o).bytes == n.bytes), compression_name(c));
    // Without an output, the digests are the same.
    Report report;
    const LayerResult digests_only = normalize_layer(LayerSource{LayerSource::Kind::tar, tmp.file("in.tar")}, o, nullptr, report);
    BOOST_TEST(digests_only.blob_digest == n.result.blob_digest, compression_name(c));
    BOOST_TEST(digests_only.diff_id == n.result.diff_id, compression_name(c));
    if (c == Compression::gzip) {
      BOOST_REQUIRE(n.bytes.size() > 10u);
      BOOST_TEST((n.bytes[0] == '\x1f' && n.bytes[1] == '\x8b'));
      BOOST_TEST(n.bytes[3] == '\0');                         // no name, comment or extra field
      BOOST_TEST(n.bytes.substr(4, 4) == std::string(4, '\0')); // no timestamp
      BOOST_TEST(static_cast<unsigned char>(n.bytes[9]) == 255u); // OS "unknown", the same on every host
    } else {
      BOOST_TEST(n.bytes.substr(0, 4) == "\x28\xb5\x2f\xfd");
    }
  }
}

BOOST_AUTO_TEST_CASE(compressed_inputs_normalize_like_the_uncompressed_tar)
{
  TempDir tmp;
  write_tar(tmp.file("in.tar"), sample_layer());
  const Normalized plain = run_normalize(tmp.file("in.tar"));
  BOOST_TEST(plain.result.input_compression == "none");
  const std::pair<int, const char*> filters[] = {{ARCHIVE_FILTER_GZIP, "gzip"}, {ARCHIVE_FILTER_ZSTD, "zstd"},
                                                 {ARCHIVE_FILTER_XZ, "xz"}, {ARCHIVE_FILTER_BZIP2, "bzip2"}};
  for (const auto& [filter, name] : filters) {
    const std::string path = tmp.file(std::string("in.tar.") + name);
    write_tar(path, sample_layer(), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, filter);
    const Normalized n = run_normalize(path);
    BOOST_TEST(n.result.input_compression == name);
    BOOST_TEST((n.bytes == plain.bytes), name);
  }
}

BOOST_AUTO_TEST_CASE(digest_stream_gives_the_blob_digest_and_the_diff_id)
{
  TempDir tmp;
  write_tar(tmp.file("layer.tar"), sample_layer());
  const std::string tar = util::read_file(tmp.file("layer.tar"));
  const std::string gz = gzip(tar);
  const std::string zst = zstd(tar);
  util::write_file_atomic(tmp.file("layer.tar.gz"), gz);
  util::write_file_atomic(tmp.file("layer.tar.zst"), zst);

  struct Case {
    const char* file;
    const std::string& stored;
    const char* compression;
  };
  const Case cases[] = {{"layer.tar", tar, "none"}, {"layer.tar.gz", gz, "gzip"}, {"layer.tar.zst", zst, "zstd"}};
  for (const Case& c : cases) {
    util::Fd fd = util::open_read(tmp.file(c.file));
    const StreamDigests d = digest_stream(fd.get(), c.file);
    BOOST_TEST(d.compression == c.compression);
    BOOST_TEST(d.blob_digest == digest::sha256_digest(c.stored), c.file);
    BOOST_TEST(d.blob_size == c.stored.size(), c.file);
    BOOST_TEST(d.diff_id == digest::sha256_digest(tar), c.file);
    BOOST_TEST(d.tar_size == tar.size(), c.file);
  }
}

BOOST_AUTO_TEST_CASE(a_dot_dot_path_is_refused_with_an_error_naming_the_entry)
{
  TempDir tmp;
  write_tar(tmp.file("evil.tar"), {file("ok", "fine"), file("a/../../etc/shadow", "x")});
  try {
    run_normalize(tmp.file("evil.tar"));
    BOOST_FAIL("a '..' path was accepted");
  } catch (const util::Error& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("a/../../etc/shadow") != std::string::npos, msg);
    BOOST_TEST(msg.find("evil.tar") != std::string::npos, msg);
    BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(util::ExitCode::bad_input));
  }

  write_tar(tmp.file("evil-link.tar"), {file("ok", "fine"), hardlink("innocent", "../outside")});
  try {
    run_normalize(tmp.file("evil-link.tar"));
    BOOST_FAIL("a hardlink to a '..' path was accepted");
  } catch (const util::Error& e) {
    BOOST_TEST(std::string(e.what()).find("innocent") != std::string::npos, e.what());
  }
}

namespace {

const std::string k_utf8_long = std::string(120, 'd') + "/\xc3\xa9t\xc3\xa9";

// Non-ASCII names as GNU tar --format=posix or bsdtar write them in a UTF-8 locale (pax records
// in UTF-8, no hdrcharset) and as GNU tar writes them from a Latin-1 system (raw bytes).
void write_non_ascii_archives(const TempDir& tmp)
{
  {
    ScopedLocale utf8("C.UTF-8");
    BOOST_REQUIRE_MESSAGE(utf8.ok(), "the C.UTF-8 locale is not available");
    std::vector<Spec> specs = {file("caf\xc3\xa9", "1"), file(k_utf8_long, "2"), symlink_to("link", "\xc3\xa9t\xc3\xa9")};
    specs[0].uname = "j\xc3\xbcrgen";
    write_tar(tmp.file("utf8.tar"), specs, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  }
  write_tar(tmp.file("latin1.tar"), {file("caf\xe9", "1"), file(std::string(120, 'l') + "/\xe9", "2")},
            ARCHIVE_FORMAT_TAR_GNUTAR);
}

struct LocaleRuns {
  Normalized in_c;
  Normalized in_utf8;
};

LocaleRuns normalize_in_both_locales(const std::string& path, const NormalizeOptions& o)
{
  LocaleRuns runs;
  runs.in_c = run_normalize(path, o);
  ScopedLocale utf8("C.UTF-8");
  runs.in_utf8 = run_normalize(path, o);
  return runs;
}

} // namespace

BOOST_AUTO_TEST_CASE(output_bytes_do_not_depend_on_the_locale)
{
  TempDir tmp;
  write_non_ascii_archives(tmp);
  NormalizeOptions o = quiet_options();
  o.policy.keep_names = true;
  for (const char* input : {"utf8.tar", "latin1.tar"}) {
    const LocaleRuns runs = normalize_in_both_locales(tmp.file(input), o);
    BOOST_TEST((runs.in_c.bytes == runs.in_utf8.bytes), input);
  }
  const std::vector<Read> entries = read_back(run_normalize(tmp.file("utf8.tar"), o).bytes);
  BOOST_TEST((paths_of(entries) == std::vector<std::string>{"caf\xc3\xa9", k_utf8_long, "link"}));
  BOOST_TEST(find(entries, "link").symlink == "\xc3\xa9t\xc3\xa9");
  BOOST_TEST(find(entries, "caf\xc3\xa9").uname == "j\xc3\xbcrgen");
}

BOOST_AUTO_TEST_CASE(the_report_does_not_depend_on_the_locale)
{
  // The names are read as raw bytes either way; a warning that they "can't be converted to the
  // current locale" under LC_ALL=C is noise that makes the report differ between build hosts.
  TempDir tmp;
  write_non_ascii_archives(tmp);
  NormalizeOptions o = quiet_options();
  o.policy.keep_names = true;
  for (const char* input : {"utf8.tar", "latin1.tar"}) {
    const LocaleRuns runs = normalize_in_both_locales(tmp.file(input), o);
    const std::string json_c = report_to_json(runs.in_c.report, o.policy, input, runs.in_c.result, "none");
    const std::string json_utf8 = report_to_json(runs.in_utf8.report, o.policy, input, runs.in_utf8.result, "none");
    BOOST_TEST_CONTEXT(input) { BOOST_TEST(json_c == json_utf8); }
  }
}

BOOST_AUTO_TEST_SUITE_END()
