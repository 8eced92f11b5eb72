// Unit tests for the docker-archive writer, RepoTags references, and the identities the layers of
// a docker-archive get when it is read (a path names them, not a digest).
#include "image/docker_archive.hpp"
#include "image/image_source.hpp"
#include "image/media_types.hpp"

#include "digest/chain_id.hpp"
#include "digest/sha256.hpp"
#include "image/json.hpp"
#include "normalize/compress.hpp"
#include "normalize/tar_writer.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>
#include <utility>

using namespace reproimg;
using namespace reproimg::image;

namespace {

struct ReadMember {
  std::string name;
  unsigned mode = 0;
  std::int64_t uid = -1;
  std::int64_t gid = -1;
  std::int64_t mtime = -1;
  std::string content;
};

std::vector<ReadMember> read_members(const std::string& path)
{
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  BOOST_REQUIRE_EQUAL(archive_read_open_filename(a, path.c_str(), 1 << 16), ARCHIVE_OK);
  std::vector<ReadMember> out;
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    ReadMember m;
    m.name = archive_entry_pathname(e);
    m.mode = archive_entry_perm(e);
    m.uid = archive_entry_uid(e);
    m.gid = archive_entry_gid(e);
    m.mtime = archive_entry_mtime(e);
    char buf[8192];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
      m.content.append(buf, static_cast<size_t>(n));
    }
    out.push_back(std::move(m));
  }
  archive_read_free(a);
  return out;
}

const ReadMember& member(const std::vector<ReadMember>& members, const std::string& name)
{
  for (const auto& m : members) {
    if (m.name == name) {
      return m;
    }
  }
  throw std::runtime_error("no member " + name);
}

// A one-file canonical layer tar.
std::string layer_tar(const std::string& path, const std::string& content)
{
  test::StringSink sink;
  normalize::CanonicalTarWriter tar(sink);
  readers::Entry e;
  e.path = path;
  e.mode = 0644;
  e.size = content.size();
  tar.begin_entry(e);
  tar.write_data(content.data(), content.size());
  tar.end_entry();
  tar.finish();
  return sink.bytes;
}

std::string gzip(const std::string& bytes)
{
  test::StringSink sink;
  auto compressor = normalize::make_compressor(normalize::Compression::gzip, sink);
  compressor->write(bytes.data(), bytes.size());
  compressor->finish();
  return sink.bytes;
}

std::string config_for(const std::vector<std::string>& diff_ids)
{
  Json config;
  config["architecture"] = "amd64";
  config["os"] = "linux";
  config["created"] = "1970-01-01T00:00:00Z";
  config["config"] = {{"Cmd", Json::array({"/bin/sh"})}};
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  return canonical_json(config);
}

// Two layers, the lower one given gzip-compressed.
struct TwoLayers {
  explicit TwoLayers(const test::TempDir& dir)
  {
    tars = {layer_tar("etc/a", "lower\n"), layer_tar("etc/b", "upper\n")};
    util::write_file_atomic(dir.file("lower.tar.gz"), gzip(tars[0]));
    util::write_file_atomic(dir.file("upper.tar"), tars[1]);
    diff_ids = {digest::sha256_digest(tars[0]), digest::sha256_digest(tars[1])};
    image.config = config_for(diff_ids);
    image.layers = {{dir.file("lower.tar.gz"), diff_ids[0], normalize::Compression::gzip},
                    {dir.file("upper.tar"), diff_ids[1], normalize::Compression::none}};
    image.repo_tags = {"busybox:repro", "example.com:5000/team/base"};
    image.epoch = 1700000000;
  }
  std::vector<std::string> tars;
  std::vector<std::string> diff_ids;
  DockerArchiveImage image;
};

// A `docker save` archive written member by member: config.json, l/layer.tar, manifest.json.
void write_saved_archive(const std::string& path, const std::string& config, const std::string& layer)
{
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  BOOST_REQUIRE_EQUAL(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  const std::string manifest = R"([{"Config":"config.json","RepoTags":null,"Layers":["l/layer.tar"]}])";
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"config.json", config}, {"l/layer.tar", layer}, {"manifest.json", manifest}}) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    BOOST_REQUIRE_EQUAL(archive_write_header(a, e), ARCHIVE_OK);
    BOOST_REQUIRE_EQUAL(archive_write_data(a, bytes.data(), bytes.size()), static_cast<la_ssize_t>(bytes.size()));
    archive_entry_free(e);
  }
  BOOST_REQUIRE_EQUAL(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

Image read_archive(const std::string& path)
{
  const ImageRef ref{ImageRef::Kind::docker_archive, path, ""};
  const auto store = ImageStore::open(ref);
  return load_image(*store, ref, std::nullopt);
}

} // namespace

BOOST_AUTO_TEST_SUITE(docker_archive)

BOOST_AUTO_TEST_CASE(writes_the_v1_2_layout_with_uncompressed_layers_and_fixed_metadata)
{
  test::TempDir dir;
  TwoLayers two(dir);
  write_docker_archive(two.image, dir.file("out.tar"));
  const auto members = read_members(dir.file("out.tar"));

  const auto chains = digest::chain_ids(two.diff_ids);
  const std::string lower = chains[0].substr(7);
  const std::string upper = chains[1].substr(7);
  const std::string config_name = digest::sha256_digest(two.image.config).substr(7) + ".json";
  std::vector<std::string> expected = {config_name, lower + "/", lower + "/VERSION", lower + "/json",
                                       lower + "/layer.tar", upper + "/", upper + "/VERSION", upper + "/json",
                                       upper + "/layer.tar", "manifest.json", "repositories"};
  // Byte order of the paths without their trailing '/'.
  std::sort(expected.begin(), expected.end(), [](const std::string& a, const std::string& b) {
    return a.substr(0, a.find_last_not_of('/') + 1) < b.substr(0, b.find_last_not_of('/') + 1);
  });
  std::vector<std::string> names;
  for (const auto& m : members) {
    names.push_back(m.name);
    BOOST_TEST(m.uid == 0);
    BOOST_TEST(m.gid == 0);
    BOOST_TEST(m.mtime == 1700000000);
    BOOST_TEST(m.mode == (m.name.back() == '/' ? 0755u : 0644u), m.name);
  }
  BOOST_TEST(names == expected, boost::test_tools::per_element());

  BOOST_TEST(member(members, config_name).content == two.image.config);
  // The gzip layer is stored decompressed: docker load reads plain tars in every version.
  BOOST_TEST(member(members, lower + "/layer.tar").content == two.tars[0]);
  BOOST_TEST(member(members, upper + "/layer.tar").content == two.tars[1]);
  BOOST_TEST(member(members, upper + "/VERSION").content == "1.0");

  const Json manifest = Json::parse(member(members, "manifest.json").content);
  BOOST_REQUIRE(manifest.is_array() && manifest.size() == 1);
  BOOST_TEST(manifest[0]["Config"] == config_name);
  BOOST_TEST(manifest[0]["Layers"] == Json::array({lower + "/layer.tar", upper + "/layer.tar"}));
  BOOST_TEST(manifest[0]["RepoTags"] == Json::array({"busybox:repro", "example.com:5000/team/base:latest"}));

  const Json lower_json = Json::parse(member(members, lower + "/json").content);
  const Json upper_json = Json::parse(member(members, upper + "/json").content);
  BOOST_TEST(lower_json == Json({{"id", lower}}));
  BOOST_TEST(upper_json["parent"] == lower);
  BOOST_TEST(upper_json["config"]["Cmd"][0] == "/bin/sh");
  BOOST_TEST(!upper_json.contains("rootfs"));

  const Json repositories = Json::parse(member(members, "repositories").content);
  BOOST_TEST(repositories ==
             Json({{"busybox", {{"repro", upper}}}, {"example.com:5000/team/base", {{"latest", upper}}}}));
}

BOOST_AUTO_TEST_CASE(the_same_image_gives_the_same_bytes_and_untagged_has_null_repo_tags)
{
  test::TempDir dir;
  TwoLayers two(dir);
  two.image.repo_tags.clear();
  write_docker_archive(two.image, dir.file("a.tar"));
  write_docker_archive(two.image, dir.file("b.tar"));
  BOOST_TEST(util::read_file(dir.file("a.tar")) == util::read_file(dir.file("b.tar")));
  const auto members = read_members(dir.file("a.tar"));
  BOOST_TEST(Json::parse(member(members, "manifest.json").content)[0]["RepoTags"].is_null());
  BOOST_CHECK_THROW(member(members, "repositories"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(a_layer_that_is_not_its_diff_id_leaves_no_output)
{
  test::TempDir dir;
  for (size_t wrong = 0; wrong < 2; ++wrong) { // the compressed layer, then the plain one
    TwoLayers two(dir);
    util::write_file_atomic(wrong == 0 ? dir.file("lower.tar.gz") : dir.file("upper.tar"),
                            wrong == 0 ? gzip(layer_tar("etc/a", "other\n")) : layer_tar("etc/b", "other\n"));
    const auto names_the_diff_id = [](const util::Error& e) {
      return std::string(e.what()).find("not its diff_id") != std::string::npos;
    };
    BOOST_CHECK_EXCEPTION(write_docker_archive(two.image, dir.file("out.tar")), util::Error, names_the_diff_id);
    BOOST_TEST(!test::exists(dir.file("out.tar")));
  }
}

BOOST_AUTO_TEST_CASE(layers_must_be_the_configs_diff_ids)
{
  test::TempDir dir;
  TwoLayers two(dir);
  std::swap(two.image.layers[0], two.image.layers[1]);
  BOOST_CHECK_THROW(write_docker_archive(two.image, dir.file("out.tar")), util::Error);
  BOOST_TEST(!test::exists(dir.file("out.tar")));
}

BOOST_AUTO_TEST_CASE(a_layer_read_from_an_archive_gets_the_digest_and_type_of_its_bytes)
{
  test::TempDir dir;
  TwoLayers two(dir);
  write_docker_archive(two.image, dir.file("out.tar"));
  const Image img = read_archive(dir.file("out.tar"));
  BOOST_REQUIRE_EQUAL(img.layers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    BOOST_TEST(img.layers[i].digest == two.diff_ids[i]); // stored uncompressed: the blob is the tar
    BOOST_TEST(img.layers[i].media_type == media::docker_layer);
    BOOST_TEST(img.layers[i].stored_compression == "none");
  }
  // Some writers store compressed layers: the type says so; the diff_id is checked when it is read.
  const std::string gz = gzip(two.tars[0]);
  write_saved_archive(dir.file("gzip.tar"), config_for({two.diff_ids[0]}), gz);
  const Image compressed = read_archive(dir.file("gzip.tar"));
  BOOST_TEST(compressed.layers[0].digest == digest::sha256_digest(gz));
  BOOST_TEST(compressed.layers[0].media_type == media::docker_layer_gzip);
  BOOST_TEST(compressed.layers[0].stored_compression == "gzip");
}

BOOST_AUTO_TEST_CASE(an_uncompressed_layer_that_is_not_its_diff_id_is_refused_when_read)
{
  test::TempDir dir;
  const std::string tar = layer_tar("etc/a", "lower\n");
  const std::string other = digest::sha256_digest("other");
  write_saved_archive(dir.file("bad.tar"), config_for({other}), tar);
  const auto names_layer_and_ids = [&](const util::Error& e) {
    return std::string(e.what()) == dir.file("bad.tar") + ":l/layer.tar: the uncompressed layer's sha256 " +
                                        digest::sha256_digest(tar) + " differs from the config's rootfs.diff_ids[0] " +
                                        other;
  };
  BOOST_CHECK_EXCEPTION(read_archive(dir.file("bad.tar")), util::Error, names_layer_and_ids);
}

BOOST_AUTO_TEST_CASE(repo_tags_follow_the_reference_grammar_docker_load_applies)
{
  BOOST_TEST(parse_repo_tag("busybox") == "busybox:latest");
  BOOST_TEST(parse_repo_tag("busybox:1.36") == "busybox:1.36");
  BOOST_TEST(parse_repo_tag("localhost:5000/a/b") == "localhost:5000/a/b:latest");
  BOOST_TEST(parse_repo_tag("Registry.Example.com/x/y_z:V1.0") == "Registry.Example.com/x/y_z:V1.0");
  for (const char* bad : {"BusyBox:1", "busybox@sha256:0123", "busybox:", ":tag", "a//b", "busybox:-x", "-a",
                          "a:b:c", ""}) {
    BOOST_CHECK_THROW(parse_repo_tag(bad), util::Error);
  }
}

BOOST_AUTO_TEST_SUITE_END()
