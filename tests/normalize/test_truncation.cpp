// Never a shorter layer from a shorter input: every prefix of a layer, in every compression, is
// either refused or, where Go's archive/tar reads it as whole (the stream ends after an entry's
// data, with or without its padding and end blocks), read as exactly the entries before the cut.
#include "tests/codecs.hpp"
#include "digest/sha256.hpp"
#include "readers/decompress.hpp"
#include "normalize/pipeline.hpp"
#include "readers/raw_stream.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>
#include <bzlib.h>
#include <cstdlib>
#include <lzma.h>
#include <random>
#include <set>

namespace reproimg::normalize {

namespace {

using test::TempDir;
using namespace reproimg::readers;

// One entry of the test layer.
struct Item {
  std::string path;
  char type; // 'f' file, 'd' directory, 'l' symlink
  std::string data;
};

// A small rootfs: directories, text, an incompressible binary, a file of exactly one block, an
// empty file, a long name (a GNU 'L' header), a symlink.
std::vector<Item> rootfs_items()
{
  std::mt19937 rng(7);
  std::string binary(20000, '\0');
  for (auto& c : binary) c = static_cast<char>(rng());
  std::string text;
  for (int i = 0; i < 400; ++i) text += "line " + std::to_string(i) + " of a configuration file\n";
  return {
      {"bin/", 'd', ""},
      {"bin/tool", 'f', binary},
      {"bin/sh", 'l', "tool"},
      {"etc/", 'd', ""},
      {"etc/empty", 'f', ""},
      {"etc/hostname", 'f', "builder\n"},
      {"etc/services", 'f', text},
      {"etc/one-block", 'f', std::string(512, 'x')},
      {"usr/share/a-directory-with-a-rather-long-name/and-a-file-whose-path-goes-past-one-hundred-bytes.conf", 'f',
       "long\n"},
  };
}

// GNU tar format, as GNU tar writes it (end blocks, padded to 10 KiB).
std::string gnu_tar_of(const std::vector<Item>& items)
{
  archive* a = archive_write_new();
  archive_write_set_format_gnutar(a);
  archive_write_set_bytes_per_block(a, 10240);
  std::string out;
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* self, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const Item& it : items) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, it.path.c_str());
    archive_entry_set_mtime(e, 1700000000, 0);
    if (it.type == 'd') {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0755);
    } else if (it.type == 'l') {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_perm(e, 0777);
      archive_entry_set_symlink(e, it.data.c_str());
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, static_cast<la_int64_t>(it.data.size()));
    }
    BOOST_REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    if (it.type == 'f' && !it.data.empty()) {
      archive_write_data(a, it.data.data(), it.data.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string xz_of(const std::string& in)
{
  std::string out(in.size() + 4096, '\0');
  size_t pos = 0;
  BOOST_REQUIRE(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(in.data()),
                                        in.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()) == LZMA_OK);
  out.resize(pos);
  return out;
}

std::string bzip2_of(const std::string& in)
{
  std::string out(in.size() + in.size() / 100 + 1024, '\0');
  auto len = static_cast<unsigned>(out.size());
  BOOST_REQUIRE(BZ2_bzBuffToBuffCompress(out.data(), &len, const_cast<char*>(in.data()), static_cast<unsigned>(in.size()),
                                         9, 0, 0) == BZ_OK);
  out.resize(len);
  return out;
}

// Where a prefix of an uncompressed tar is whole by Go's rules, and how many entries it holds:
// the header walk of a GNU tar of regular files, directories, symlinks and 'L' long names.
std::map<std::uint64_t, std::uint64_t> whole_prefixes(const std::string& tar)
{
  std::map<std::uint64_t, std::uint64_t> whole; // cut -> entries
  std::uint64_t pos = 0;
  std::uint64_t entries = 0;
  auto octal = [&](std::uint64_t at, size_t len) { return std::strtoull(tar.substr(at, len).c_str(), nullptr, 8); };
  while (pos + 512 <= tar.size() && tar.compare(pos, 512, std::string(512, '\0')) != 0) {
    const char type = tar[pos + 156];
    const std::uint64_t size = octal(pos + 124, 12);
    const std::uint64_t data = pos + 512;
    const std::uint64_t padded = data + (size + 511) / 512 * 512;
    if (type != 'L' && type != 'K') {
      ++entries;
      for (std::uint64_t c = data + size; c <= padded; ++c) whole[c] = entries;
    }
    pos = padded;
  }
  // One end block, then the second whole, then anything after.
  whole[pos + 512] = entries;
  for (std::uint64_t c = pos + 1024; c <= tar.size(); ++c) whole[c] = entries;
  return whole;
}

struct Outcome {
  bool ok = false;
  std::uint64_t entries = 0;
  std::string error;
};

// normalize's reader (contents by offset where it can) and digest's (everything hashed) on the
// first cut bytes of the file.
Outcome normalize_prefix(const std::string& file, std::uint64_t cut)
{
  LayerSource src{LayerSource::Kind::tar, file};
  src.length = cut;
  NormalizeOptions opts;
  opts.progress = util::ProgressMode::off;
  Report report;
  try {
    normalize_layer(src, opts, nullptr, report);
    return {true, report.entries_in, ""};
  } catch (const util::Error& e) {
    return {false, 0, e.what()};
  }
}

Outcome digest_prefix(const std::string& file, std::uint64_t cut)
{
  util::Fd fd = util::open_read(file);
  try {
    const StreamDigests d = digest_stream_range(fd.get(), file, 0, cut);
    return {true, d.entries, ""};
  } catch (const util::Error& e) {
    return {false, 0, e.what()};
  }
}

// Every cut in the first 64 KiB (REPROIMG_SWEEP_STRIDE > 1 samples them), then a geometric
// series of cuts to the end.
std::vector<std::uint64_t> cut_points(std::uint64_t size)
{
  std::uint64_t stride = 1;
  if (const char* s = std::getenv("REPROIMG_SWEEP_STRIDE")) stride = std::max<std::uint64_t>(1, std::strtoull(s, nullptr, 10));
  std::set<std::uint64_t> cuts;
  for (std::uint64_t c = 0; c < std::min<std::uint64_t>(size, 65536); c += stride) cuts.insert(c);
  for (double c = 65536; c < static_cast<double>(size); c *= 1.07) cuts.insert(static_cast<std::uint64_t>(c));
  for (std::uint64_t back = 1; back <= 64 && back <= size; ++back) cuts.insert(size - back);
  return {cuts.begin(), cuts.end()};
}

void sweep(const std::string& name, const std::string& stored, const std::string& tar, std::uint64_t total_entries)
{
  TempDir tmp;
  const std::string file = tmp.file(name);
  util::write_file_atomic(file, stored);
  const bool compressed = &stored != &tar;
  const auto whole = whole_prefixes(tar);
  size_t refused = 0;
  size_t accepted = 0;
  for (const std::uint64_t cut : cut_points(stored.size())) {
    // A compressed stream is whole only when all of it is there (one member or frame here);
    // an uncompressed prefix where Go's reader would stop cleanly, but never an empty one.
    std::optional<std::uint64_t> want;
    if (!compressed && cut > 0) {
      if (const auto it = whole.find(cut); it != whole.end()) want = it->second;
    }
    // Both readers share the decoders: on a compressed layer normalize's reader is tried at every
    // 5th cut (and digest's at every one), which halves the sweep's time.
    std::vector<std::pair<const char*, Outcome>> outcomes{{"digest", digest_prefix(file, cut)}};
    if (!compressed || cut % 5 == 0) {
      outcomes.emplace_back("normalize", normalize_prefix(file, cut));
    }
    for (const auto& [reader, outcome] : outcomes) {
      if (want) {
        BOOST_TEST_REQUIRE(outcome.ok, name << " cut at " << cut << ": " << reader << " refused a whole prefix: " << outcome.error);
        BOOST_TEST_REQUIRE(outcome.entries == *want, name << " cut at " << cut << ": " << reader);
      } else {
        BOOST_TEST_REQUIRE(!outcome.ok, name << " cut at " << cut << ": " << reader << " took a cut stream ("
                                              << outcome.entries << " entries)");
        BOOST_TEST_REQUIRE(outcome.error.find(file) != std::string::npos, outcome.error);
      }
    }
    // One file, one message: the entry, the offset and its meaning are the same in both commands.
    if (!want && outcomes.size() == 2) {
      const std::string& d = outcomes[0].second.error;
      const std::string& n = outcomes[1].second.error;
      BOOST_TEST_REQUIRE(n == d, name << " cut at " << cut << ": normalize says '" << n << "', digest '" << d << "'");
    }
    (want ? accepted : refused)++;
  }
  BOOST_TEST(normalize_prefix(file, stored.size()).entries == total_entries);
  BOOST_TEST_MESSAGE(name << ": " << refused + accepted << " cut points, " << refused << " refused, " << accepted
                          << " whole by Go's rules");
}

} // namespace

BOOST_AUTO_TEST_SUITE(truncation)

BOOST_AUTO_TEST_CASE(every_prefix_of_a_layer_is_refused_or_read_as_the_entries_before_it)
{
  const auto items = rootfs_items();
  const std::string tar = gnu_tar_of(items);
  sweep("layer.tar", tar, tar, items.size());
  const std::string gz = test::gzip(tar);
  sweep("layer.tar.gz", gz, tar, items.size());
  const std::string zst = test::zstd(tar);
  sweep("layer.tar.zst", zst, tar, items.size());
  const std::string xz = xz_of(tar);
  sweep("layer.tar.xz", xz, tar, items.size());
  const std::string bz = bzip2_of(tar);
  sweep("layer.tar.bz2", bz, tar, items.size());
}

BOOST_AUTO_TEST_CASE(decoders_read_concatenated_streams_and_zero_padding_and_refuse_other_trailing_bytes)
{
  const std::string tar = gnu_tar_of(rootfs_items());
  const std::string half_a = tar.substr(0, 10240);
  const std::string half_b = tar.substr(10240);
  TempDir tmp;
  auto digest_of = [&](const std::string& stored) {
    util::write_file_atomic(tmp.file("x"), stored);
    util::Fd fd = util::open_read(tmp.file("x"));
    return digest_stream(fd.get(), "x");
  };
  const std::string want = digest::sha256_digest(tar);
  // Two gzip members (pigz --independent, concatenated files), two zstd frames, two xz streams.
  BOOST_TEST(digest_of(test::gzip(half_a) + test::gzip(half_b)).diff_id == want);
  BOOST_TEST(digest_of(test::zstd(half_a) + test::zstd(half_b)).diff_id == want);
  BOOST_TEST(digest_of(xz_of(half_a) + xz_of(half_b)).diff_id == want);
  BOOST_TEST(digest_of(bzip2_of(half_a) + bzip2_of(half_b)).diff_id == want);
  // Zero padding after gzip (tape blocking), as gzip -d reads it.
  BOOST_TEST(digest_of(test::gzip(tar) + std::string(1000, '\0')).diff_id == want);
  for (const std::string& bad : {test::gzip(tar) + "garbage", test::gzip(tar) + std::string(10, '\0') + "x",
                                 test::zstd(tar) + "garbage", bzip2_of(tar) + "garbage"}) {
    BOOST_CHECK_THROW(digest_of(bad), util::Error);
  }
  // A flipped byte inside the compressed data: the checksum or the structure says so.
  std::string gz = test::gzip(tar);
  gz[gz.size() / 2] ^= 0x40;
  BOOST_CHECK_THROW(digest_of(gz), util::Error);
  std::string gz_crc = test::gzip(tar);
  gz_crc[gz_crc.size() - 6] ^= 1; // the CRC-32 field
  try {
    digest_of(gz_crc);
    BOOST_FAIL("a wrong CRC-32 was accepted");
  } catch (const util::Error& e) {
    BOOST_TEST(std::string(e.what()).find("CRC-32") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(an_empty_input_is_not_an_empty_layer)
{
  TempDir tmp;
  for (const std::string& stored : {std::string(), test::gzip(""), test::zstd("")}) {
    util::write_file_atomic(tmp.file("empty"), stored);
    util::Fd fd = util::open_read(tmp.file("empty"));
    BOOST_CHECK_THROW(digest_stream(fd.get(), "empty"), util::Error);
  }
  // The end blocks alone are the empty layer.
  util::write_file_atomic(tmp.file("end"), std::string(1024, '\0'));
  util::Fd fd = util::open_read(tmp.file("end"));
  BOOST_TEST(digest_stream(fd.get(), "end").entries == 0u);
}

BOOST_AUTO_TEST_CASE(a_go_style_ending_is_read_and_said)
{
  const std::string tar = gnu_tar_of({{"a", 'f', "hello"}, {"b", 'f', std::string(700, 'b')}});
  const auto whole = whole_prefixes(tar);
  TempDir tmp;
  util::write_file_atomic(tmp.file("t"), tar);
  util::Fd fd = util::open_read(tmp.file("t"));
  const std::uint64_t data_end = 512 + 512 + 512 + 700; // a: header + 1 block; b: header + data
  BOOST_TEST((digest_stream_range(fd.get(), "t", 0, data_end).ending == TarEnding::no_padding));
  BOOST_TEST((digest_stream_range(fd.get(), "t", 0, data_end + 100).ending == TarEnding::no_padding));
  BOOST_TEST((digest_stream_range(fd.get(), "t", 0, 512 * 5).ending == TarEnding::no_end_blocks));
  BOOST_TEST((digest_stream_range(fd.get(), "t", 0, 512 * 7).ending == TarEnding::end_blocks));
  BOOST_TEST(!ending_note(TarEnding::no_padding).empty());
  BOOST_CHECK_THROW(digest_stream_range(fd.get(), "t", 0, data_end - 1), util::Error);
  BOOST_TEST(whole.count(data_end) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace reproimg::normalize
