// diff: causes found by comparing real tar files, and content explanations (the reports: tests/report).
#include "diff/content_detail.hpp"
#include "diff/diff.hpp"
#include "diff/tree_index.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>
#include <set>
#include <stdexcept>
#include <unistd.h>
#include <zlib.h>

// Test entries are written as aggregates that leave the trailing fields at their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace reproimg;

namespace reproimg::diff {
std::ostream& operator<<(std::ostream& os, Verdict v)
{
  return os << verdict_name(v);
}
} // namespace reproimg::diff

namespace {

struct TestEntry {
  std::string path;
  std::string content;
  unsigned mode = 0644;
  std::int64_t mtime = 1000;
  std::string uname = "root";
  std::int64_t uid = 0;
  char type = '0';        // '0' file, '5' dir, '2' symlink, '1' hardlink
  std::string link;       // symlink or hardlink target
  bool atime = false;
};

// Writes a tar (pax format unless gnu) with libarchive.
void write_tar(const std::string& file, const std::vector<TestEntry>& entries, bool gnu = false)
{
  archive* a = archive_write_new();
  if (gnu) {
    archive_write_set_format_gnutar(a);
  } else {
    archive_write_set_format_pax(a);
  }
  BOOST_REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
  for (const auto& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_perm(e, t.mode);
    archive_entry_set_mtime(e, t.mtime, 0);
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_uname(e, t.uname.c_str());
    if (t.atime) archive_entry_set_atime(e, 5, 0);
    switch (t.type) {
    case '5': archive_entry_set_filetype(e, AE_IFDIR); break;
    case '2': archive_entry_set_filetype(e, AE_IFLNK); archive_entry_set_symlink(e, t.link.c_str()); break;
    case '1': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_hardlink(e, t.link.c_str()); break;
    default: archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_size(e, static_cast<la_int64_t>(t.content.size()));
    }
    BOOST_REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    if (t.type == '0' && !t.content.empty()) {
      archive_write_data(a, t.content.data(), t.content.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string gzip_bytes(const std::string& payload, std::uint32_t mtime)
{
  z_stream z{};
  BOOST_REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out = std::string("\x1f\x8b\x08\x00", 4);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((mtime >> (8 * i)) & 0xff);
  out += std::string("\x00\x03", 2);
  std::string body(payload.size() + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  z.avail_in = static_cast<uInt>(payload.size());
  z.next_out = reinterpret_cast<Bytef*>(body.data());
  z.avail_out = static_cast<uInt>(body.size());
  BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  body.resize(body.size() - z.avail_out);
  deflateEnd(&z);
  out += body;
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xff);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
  return out;
}

std::set<std::pair<std::string, std::string>> causes(const diff::DiffResult& r)
{
  std::set<std::pair<std::string, std::string>> s;
  for (const auto& d : r.differences) s.emplace(diff::cause_name(d.cause), d.path);
  return s;
}

// What a failed check prints: the records, one line each.
std::string listing(const diff::DiffResult& r)
{
  std::string out = diff::verdict_name(r.verdict);
  for (const auto& d : r.differences) out += std::string("\n  ") + diff::cause_name(d.cause) + " " + d.path;
  return out;
}

using Set = std::set<std::pair<std::string, std::string>>;
using Options = std::vector<std::string>;

// Diffs the tars written from a and b.
diff::DiffResult diff_entries(const std::vector<TestEntry>& a, const std::vector<TestEntry>& b)
{
  test::TempDir dir;
  write_tar(dir.file("a.tar"), a);
  write_tar(dir.file("b.tar"), b);
  return diff::run_diff(dir.file("a.tar"), dir.file("b.tar"), {});
}

const diff::Difference& record_of(const diff::DiffResult& r, diff::Cause cause, const std::string& path)
{
  for (const auto& d : r.differences) {
    if (d.cause == cause && d.path == path) return d;
  }
  throw std::runtime_error(std::string("no ") + diff::cause_name(cause) + " record for " + path);
}

bool contains(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

// A small Debian-like tree: two volatile paths the debian profile handles (run/lock dropped,
// var/log/dpkg.log emptied), one it does not cover (var/log/syslog), one ordinary file.
std::vector<TestEntry> debian_like_tree()
{
  return {
      {"etc/hostname", "box\n"},
      {"run/lock", "", 01777, 1000, "root", 0, '5'},
      {"var/cache/apt/archives/dash_0.5_amd64.deb", "!<arch>\n"},
      {"var/log/dpkg.log", "install dash\n", 0644, 1000},
      {"var/log/syslog", "boot\n", 0640, 1000, "syslog", 104},
  };
}

} // namespace

BOOST_AUTO_TEST_SUITE(diff_suite)

BOOST_AUTO_TEST_CASE(unified_diff_shows_changed_lines_with_context)
{
  const auto d = diff::unified_diff("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nD\ne\nf\ng\nh\n", 40);
  const std::vector<std::string> want = {"@@ -1,7 +1,7 @@", " a", " b", " c", "-d", "+D", " e", " f", " g"};
  BOOST_TEST(d == want, boost::test_tools::per_element());
  BOOST_TEST(diff::unified_diff("x\n", "x\n", 40).empty());
  const auto cut = diff::unified_diff("1\n2\n3\n4\n5\n6\n", "a\nb\nc\nd\ne\nf\n", 4);
  BOOST_TEST(cut.size() == 5u);
  BOOST_TEST(cut.back().find("max-diff-lines") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gzip_header_only_is_an_embedded_timestamp)
{
  const std::string payload = "the same changelog\n";
  const auto e = diff::explain_content(gzip_bytes(payload, 1000), gzip_bytes(payload, 2000), false, 40);
  BOOST_TEST(e.format == "gzip");
  BOOST_TEST(e.only_embedded_timestamps);
  BOOST_REQUIRE(!e.attributes.empty());
  BOOST_TEST(e.attributes[0].first == "gzip.mtime");
  // A different payload is content, shown as a diff of the decompressed text.
  const auto c = diff::explain_content(gzip_bytes("one\n", 1000), gzip_bytes("two\n", 1000), false, 40);
  BOOST_TEST(!c.only_embedded_timestamps);
  BOOST_TEST((std::find(c.detail.begin(), c.detail.end(), "+two") != c.detail.end()));
}

BOOST_AUTO_TEST_CASE(pyc_and_ar_timestamps)
{
  std::string pyc_a = std::string("\x6f\x0d\x0d\x0a\0\0\0\0\x10\0\0\0\x05\0\0\0code", 20);
  std::string pyc_b = pyc_a;
  pyc_b[8] = '\x20';
  auto e = diff::explain_content(pyc_a, pyc_b, false, 40);
  BOOST_TEST(e.format == "pyc");
  BOOST_TEST(e.only_embedded_timestamps);
  pyc_b.back() = 'X';
  BOOST_TEST(!diff::explain_content(pyc_a, pyc_b, false, 40).only_embedded_timestamps);

  auto member = [](const std::string& mtime) {
    char h[61];
    std::snprintf(h, sizeof h, "%-16s%-12s%-6s%-6s%-8s%-10s`\n", "a.o/", mtime.c_str(), "0", "0", "644", "4");
    return std::string(h, 60) + "ABCD";
  };
  const std::string ar_a = "!<arch>\n" + member("1000");
  const std::string ar_b = "!<arch>\n" + member("2000");
  e = diff::explain_content(ar_a, ar_b, false, 40);
  BOOST_TEST(e.format == "ar");
  BOOST_TEST(e.only_embedded_timestamps);
  std::string ar_c = ar_b;
  ar_c.back() = 'E';
  BOOST_TEST(!diff::explain_content(ar_a, ar_c, false, 40).only_embedded_timestamps);
}

BOOST_AUTO_TEST_CASE(every_attribute_gets_its_cause)
{
  test::TempDir dir;
  std::vector<TestEntry> a = {
      {"etc", "", 0755, 1000, "root", 0, '5'},
      {"etc/hostname", "box\n"},
      {"etc/motd", "hi\n", 0644, 1000},
      {"etc/passwd", "root\n"},
      {"usr/bin/tool", "bin", 0755},
      {"usr/bin/link", "", 0777, 1000, "root", 0, '2', "tool"},
      {"var/log/dpkg.log", "one\n"},
      {"gone", "x"},
  };
  auto b = a;
  b[1].content = "BOX\n";               // content
  b[2].mtime = 2000;                    // mtime
  b[3].uname = "builder";               // owner-name
  b[3].uid = 1000;                      // owner-id
  b[4].mode = 0775;                     // mode
  b[5].link = "other";                  // link-target
  b[6].content = "one\ntwo\n";          // volatile-path (a volatile file's contents)
  b[6].mtime = 5000;                    // and mtime, as on any path
  b.erase(b.begin() + 7);               // removed
  b.push_back({"new", "y"});            // added
  write_tar(dir.file("a.tar"), a);
  write_tar(dir.file("b.tar"), b);
  const auto r = diff::run_diff(dir.file("a.tar"), dir.file("b.tar"), {});
  const Set want = {{"content", "etc/hostname"}, {"mtime", "etc/motd"}, {"owner-name", "etc/passwd"},
                    {"owner-id", "etc/passwd"},  {"mode", "usr/bin/tool"}, {"link-target", "usr/bin/link"},
                    {"volatile-path", "var/log/dpkg.log"}, {"mtime", "var/log/dpkg.log"},
                    {"removed", "gone"}, {"added", "new"}};
  BOOST_TEST((causes(r) == want));
  BOOST_TEST(r.verdict == diff::Verdict::different);
  BOOST_TEST(r.summary.count(diff::Cause::owner_id));

  // --ignore and --semantic filter; what is left decides the verdict.
  diff::DiffOptions semantic;
  semantic.semantic = true;
  const auto s = diff::run_diff(dir.file("a.tar"), dir.file("b.tar"), semantic);
  BOOST_TEST(!causes(s).count({"mtime", "etc/motd"}));
  BOOST_TEST(!causes(s).count({"volatile-path", "var/log/dpkg.log"}));
  BOOST_TEST(causes(s).count({"content", "etc/hostname"}));
}

BOOST_AUTO_TEST_CASE(normalizable_differences_make_an_equivalent_verdict)
{
  test::TempDir dir;
  std::vector<TestEntry> a = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
  std::vector<TestEntry> b = {{"c", "3", 0644, 7000}, {"a", "1", 0644, 7000, "someone"}, {"b", "2", 0644, 1000, "root", 0, '0', "", true}};
  write_tar(dir.file("a.tar"), a);
  write_tar(dir.file("b.tar"), b);
  auto r = diff::run_diff(dir.file("a.tar"), dir.file("b.tar"), {});
  const Set want = {{"mtime", "a"}, {"owner-name", "a"}, {"pax-time", "b"}, {"mtime", "c"}, {"order", ""}};
  BOOST_TEST((causes(r) == want), listing(r));
  BOOST_TEST(r.verdict == diff::Verdict::equivalent);
  BOOST_TEST((r.normalize_options == std::vector<std::string>{"--source-date-epoch 1000"}));
  diff::DiffOptions ignore;
  ignore.ignore = {diff::Cause::mtime, diff::Cause::owner_name, diff::Cause::pax_time, diff::Cause::order};
  r = diff::run_diff(dir.file("a.tar"), dir.file("b.tar"), ignore);
  BOOST_TEST(r.verdict == diff::Verdict::identical);
  BOOST_TEST(r.differences.empty());
}

BOOST_AUTO_TEST_CASE(encoding_and_hardlinks)
{
  test::TempDir dir;
  const std::vector<TestEntry> a = {{"x", "data"}, {"y", "", 0644, 1000, "root", 0, '1', "x"}};
  write_tar(dir.file("pax.tar"), a);
  write_tar(dir.file("gnu.tar"), a, true);
  auto r = diff::run_diff(dir.file("pax.tar"), dir.file("gnu.tar"), {});
  BOOST_TEST((causes(r) == Set{{"tar-encoding", ""}}));
  // The same hardlink group stored the other way round is not a difference of the files.
  const std::vector<TestEntry> swapped = {{"y", "data"}, {"x", "", 0644, 1000, "root", 0, '1', "y"}};
  write_tar(dir.file("swapped.tar"), swapped);
  r = diff::run_diff(dir.file("pax.tar"), dir.file("swapped.tar"), {});
  BOOST_TEST((causes(r) == Set{{"order", ""}}));
  // A copy instead of a link is.
  const std::vector<TestEntry> copy = {{"x", "data"}, {"y", "data"}};
  write_tar(dir.file("copy.tar"), copy);
  r = diff::run_diff(dir.file("pax.tar"), dir.file("copy.tar"), {});
  BOOST_TEST((causes(r) == Set{{"hardlink", "x"}, {"hardlink", "y"}}));
  // Identical files: nothing.
  r = diff::run_diff(dir.file("pax.tar"), dir.file("pax.tar"), {});
  BOOST_TEST(r.verdict == diff::Verdict::identical);
  BOOST_TEST(r.summary.empty());
}

BOOST_AUTO_TEST_CASE(flattening_gives_hardlinks_the_data_of_a_whited_out_path)
{
  // Layer 1: data with two links to it, a directory; layer 2 whites data out and puts a file
  // where the directory was.
  test::TempDir dir;
  write_tar(dir.file("1.tar"), {{"data", "old"},
                                {"l1", "", 0644, 1000, "root", 0, '1', "data"},
                                {"l2", "", 0644, 1000, "root", 0, '1', "data"},
                                {"d", "", 0755, 1000, "root", 0, '5'},
                                {"d/x", "x"}});
  write_tar(dir.file("2.tar"), {{".wh.data", ""}, {"d", "now a file"}});
  std::vector<std::unique_ptr<diff::LayerIndex>> layers;
  layers.push_back(diff::LayerIndex::read({readers::LayerSource::Kind::tar, dir.file("1.tar")}, 0));
  layers.push_back(diff::LayerIndex::read({readers::LayerSource::Kind::tar, dir.file("2.tar")}, 1));
  const diff::Tree t = diff::flatten(layers, "image");
  std::vector<std::string> paths;
  for (const auto* r : t.records) paths.push_back(r->path);
  BOOST_TEST((paths == std::vector<std::string>{"d", "l1", "l2"}));
  const diff::FileRecord& l1 = *t.by_path.at("l1");
  BOOST_TEST((l1.type == readers::EntryType::regular));
  BOOST_TEST(l1.size == 3u);
  BOOST_TEST(diff::read_content(l1, 100).value_or("?") == "old");
  const diff::FileRecord& l2 = *t.by_path.at("l2");
  BOOST_TEST((l2.type == readers::EntryType::hardlink));
  BOOST_TEST(l2.link_target == "l1");
  BOOST_TEST((t.by_path.at("d")->type == readers::EntryType::regular));
}

// Issue 11, item 5: on a volatile path, what differs is the cause, as on any other path; only its
// contents, type or presence are `volatile-path`.
BOOST_AUTO_TEST_CASE(volatile_path_differing_in_mtime_only_is_an_mtime_the_epoch_removes)
{
  const auto a = debian_like_tree();
  auto b = a;
  b[1].mtime = 2000; // run/lock: the profile drops it, but the epoch alone suffices
  b[2].mtime = 3000; // a downloaded .deb
  b[3].mtime = 4000; // var/log/dpkg.log
  const auto r = diff_entries(a, b);
  const Set want = {{"mtime", "run/lock"}, {"mtime", "var/cache/apt/archives/dash_0.5_amd64.deb"},
                    {"mtime", "var/log/dpkg.log"}};
  BOOST_TEST((causes(r) == want), listing(r));
  BOOST_TEST(r.verdict == diff::Verdict::equivalent);
  BOOST_TEST((r.normalize_options == Options{"--source-date-epoch 1000"}));
  for (const auto& [cause, summary] : r.summary) BOOST_TEST(!contains(summary.hint, "--profile debian"), summary.hint);
}

BOOST_AUTO_TEST_CASE(volatile_path_differing_in_owner_name_only_is_an_owner_name)
{
  const auto a = debian_like_tree();
  auto b = a;
  b[4].uname = "adm"; // var/log/syslog: the same uid, another name
  b[3].uname = "builder";
  const auto r = diff_entries(a, b);
  BOOST_TEST((causes(r) == Set{{"owner-name", "var/log/dpkg.log"}, {"owner-name", "var/log/syslog"}}),
             listing(r));
  BOOST_TEST(r.verdict == diff::Verdict::equivalent);
  BOOST_TEST(r.normalize_options.empty()); // names are cleared by default
}

BOOST_AUTO_TEST_CASE(volatile_path_differing_in_content_is_a_volatile_path_the_profile_empties)
{
  const auto a = debian_like_tree();
  auto b = a;
  b[3].content = "install dash\nremove dash\n"; // var/log/dpkg.log: emptied by the profile
  const auto r = diff_entries(a, b);
  BOOST_TEST((causes(r) == Set{{"volatile-path", "var/log/dpkg.log"}}), listing(r));
  BOOST_TEST(r.verdict == diff::Verdict::equivalent);
  BOOST_TEST((r.normalize_options == Options{"--profile debian"}));
  const std::string hint = r.summary.at(diff::Cause::volatile_path).hint;
  BOOST_TEST(contains(hint, "`reproimg normalize --profile debian` empties 1 of them (var/log/dpkg.log)"), hint);
  BOOST_TEST(!contains(hint, "drops"), hint);
}

BOOST_AUTO_TEST_CASE(volatile_path_differing_in_mtime_and_content_gets_a_record_per_cause)
{
  const auto a = debian_like_tree();
  auto b = a;
  b[0].mtime = 1500;                            // etc/hostname: needs the epoch anyway
  b[3].content = "install dash\nremove dash\n"; // var/log/dpkg.log: contents and mtime
  b[3].mtime = 4000;
  auto r = diff_entries(a, b);
  const Set want = {{"mtime", "etc/hostname"}, {"mtime", "var/log/dpkg.log"}, {"volatile-path", "var/log/dpkg.log"}};
  BOOST_TEST((causes(r) == want), listing(r));
  const auto& content = record_of(r, diff::Cause::volatile_path, "var/log/dpkg.log");
  BOOST_REQUIRE(content.attributes.size() == 1u);
  BOOST_TEST(content.attributes[0].first == "size");
  BOOST_TEST(record_of(r, diff::Cause::mtime, "var/log/dpkg.log").attributes[0].first == "mtime");
  BOOST_TEST(r.verdict == diff::Verdict::equivalent);
  BOOST_TEST((r.normalize_options == Options{"--source-date-epoch 1000", "--profile debian"}));

  // Alone, the log's two records go with one option: leaving the file out removes both.
  b[0].mtime = 1000;
  r = diff_entries(a, b);
  BOOST_TEST((r.normalize_options == Options{"--exclude 'var/log/dpkg.log'"}), listing(r));
}

BOOST_AUTO_TEST_CASE(volatile_path_the_profile_does_not_cover_is_named_for_exclude_not_the_profile)
{
  auto a = debian_like_tree();
  a.push_back({"var/log/it's [1].log", "one\n"});
  auto b = a;
  b[4].content = "boot\nagain\n"; // var/log/syslog: not in the debian profile
  b[5].content = "two\n";
  const auto r = diff_entries(a, b);
  BOOST_TEST((causes(r) == Set{{"volatile-path", "var/log/it's [1].log"}, {"volatile-path", "var/log/syslog"}}));
  BOOST_TEST(r.verdict == diff::Verdict::equivalent);
  // Quoted for a shell, the glob characters escaped: each --exclude names exactly its path.
  BOOST_TEST((r.normalize_options == Options{"--exclude 'var/log/it'\\''s \\[1].log'", "--exclude 'var/log/syslog'"}),
             listing(r));
  const std::string hint = r.summary.at(diff::Cause::volatile_path).hint;
  BOOST_TEST(!contains(hint, "--profile debian"), hint);
  BOOST_TEST(contains(hint, "2 paths the debian profile does not cover"), hint);
}

BOOST_AUTO_TEST_CASE(volatile_path_on_one_side_only)
{
  const auto a = debian_like_tree();
  auto b = a;
  b.push_back({"run/motd.dynamic", "hi\n"}); // dropped by the profile (run/*)
  auto r = diff_entries(a, b);
  BOOST_TEST((causes(r) == Set{{"volatile-path", "run/motd.dynamic"}}));
  BOOST_TEST((r.normalize_options == Options{"--profile debian"}));
  BOOST_TEST(contains(r.summary.at(diff::Cause::volatile_path).hint, "drops 1 of them (run/*)"));

  // The profile empties var/log/dpkg.log but keeps it: a log only in B needs --exclude.
  auto c = a;
  c.erase(c.begin() + 3);
  r = diff_entries(c, a);
  BOOST_TEST((causes(r) == Set{{"volatile-path", "var/log/dpkg.log"}}));
  BOOST_TEST((r.normalize_options == Options{"--exclude 'var/log/dpkg.log'"}));
  const std::string hint = r.summary.at(diff::Cause::volatile_path).hint;
  BOOST_TEST(contains(hint, "1 file the debian profile only empties, on one side only"), hint);
  BOOST_TEST(!contains(hint, "`reproimg normalize --profile debian`"), hint);
}

BOOST_AUTO_TEST_CASE(volatile_path_attributes_normalize_keeps_are_real_unless_the_profile_drops_the_path)
{
  const auto a = debian_like_tree();
  auto b = a;
  b[1].mode = 0755; // run/lock: dropped by the profile
  auto r = diff_entries(a, b);
  BOOST_TEST((causes(r) == Set{{"mode", "run/lock"}}));
  BOOST_TEST(r.verdict == diff::Verdict::equivalent);
  BOOST_TEST((r.normalize_options == Options{"--profile debian"}));
  BOOST_TEST(contains(r.summary.at(diff::Cause::mode).hint, "--profile debian` drops 1 of them (run/*)"));

  b = a;
  b[4].uid = 0; // var/log/syslog: another owner is a real difference of the build
  b[4].mtime = 2000;
  r = diff_entries(a, b);
  BOOST_TEST((causes(r) == Set{{"owner-id", "var/log/syslog"}, {"mtime", "var/log/syslog"}}));
  BOOST_TEST(r.verdict == diff::Verdict::different);
  BOOST_TEST((r.normalize_options == Options{"--source-date-epoch 1000"}));
  BOOST_TEST(std::count_if(r.differences.begin(), r.differences.end(), [](const auto& d) { return d.normalizable; }) == 1);
}

BOOST_AUTO_TEST_CASE(volatile_path_that_changed_type_is_one_volatile_path_record)
{
  const auto a = debian_like_tree();
  auto b = a;
  b[3] = {"var/log/dpkg.log", "", 0777, 2000, "root", 0, '2', "/dev/null"};
  const auto r = diff_entries(a, b);
  BOOST_TEST((causes(r) == Set{{"volatile-path", "var/log/dpkg.log"}}), listing(r));
  // Emptying does not make a symlink of a file: leaving it out does.
  BOOST_TEST((r.normalize_options == Options{"--exclude 'var/log/dpkg.log'"}));
}

BOOST_AUTO_TEST_SUITE_END()

// Contents of two uncompressed tar files are compared where they lie in the files (read by
// offset): equal, differing at the right byte, hashed alike; and a file truncated after it was
// indexed is an error naming it (exit 2), not a crash, whether compared or hashed.
BOOST_AUTO_TEST_CASE(contents_compare_by_offset_and_a_file_shrunk_meanwhile_is_an_error)
{
  test::TempDir dir;
  const std::string big(300000, 'a');
  std::string other = big;
  other[123456] = 'b';
  write_tar(dir.file("a.tar"), {{"same", big}, {"differs", big}, {"z-last", big}});
  write_tar(dir.file("b.tar"), {{"same", big}, {"differs", other}, {"z-last", big}});
  const auto a = diff::LayerIndex::read({readers::LayerSource::Kind::tar, dir.file("a.tar")}, 0);
  const auto b = diff::LayerIndex::read({readers::LayerSource::Kind::tar, dir.file("b.tar")}, 0);
  auto record = [](const diff::LayerIndex& l, const std::string& path) -> const diff::FileRecord& {
    for (const auto& r : l.records) {
      if (r.path == path) return r;
    }
    throw std::runtime_error("no record " + path);
  };
  BOOST_TEST(diff::compare_content(record(*a, "same"), record(*b, "same")).equal);
  const auto d = diff::compare_content(record(*a, "differs"), record(*b, "differs"));
  BOOST_TEST(!d.equal);
  BOOST_TEST(d.first_difference.value_or(0) == 123456u);
  BOOST_TEST(diff::content_digest(record(*a, "same")) == diff::content_digest(record(*b, "same")));
  BOOST_TEST(diff::content_digest(record(*a, "differs")) != diff::content_digest(record(*b, "differs")));
  // The last file's data cut off (the index was made while the file was whole).
  const std::uint64_t cut = (record(*b, "z-last").content.offset + 8192) / 4096 * 4096;
  BOOST_REQUIRE(::truncate(dir.file("b.tar").c_str(), static_cast<off_t>(cut)) == 0);
  const auto shrunk = [&](const util::Error& e) {
    return std::string(e.what()).find("b.tar") != std::string::npos &&
           std::string(e.what()).find("was the file changed while reading?") != std::string::npos &&
           e.code() == util::ExitCode::bad_input;
  };
  BOOST_CHECK_EXCEPTION(diff::compare_content(record(*a, "z-last"), record(*b, "z-last")), util::Error, shrunk);
  BOOST_CHECK_EXCEPTION(diff::content_digest(record(*b, "z-last")), util::Error, shrunk);
}
