// Unit tests for parse_image_ref's detection of image archives among tar files: what makes a tar
// an image archive, and that a rootfs is told apart from one within its first entries.
#include "image/image_source.hpp"

#include "tests/support.hpp"
#include "util/file.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>

using namespace reproimg;
using namespace reproimg::image;

namespace {

struct TarMember {
  std::string name;
  unsigned type = AE_IFREG;
  std::string content;
};

void write_tar(const std::string& path, const std::vector<TarMember>& members, bool gzip = false)
{
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) {
    archive_write_add_filter_gzip(a);
  }
  BOOST_REQUIRE_EQUAL(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const TarMember& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, m.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, m.type == AE_IFREG ? static_cast<la_int64_t>(m.content.size()) : 0);
    BOOST_REQUIRE_EQUAL(archive_write_header(a, e), ARCHIVE_OK);
    if (m.type == AE_IFREG && !m.content.empty()) {
      BOOST_REQUIRE_EQUAL(archive_write_data(a, m.content.data(), m.content.size()),
                          static_cast<la_ssize_t>(m.content.size()));
    }
    archive_entry_free(e);
  }
  BOOST_REQUIRE_EQUAL(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

const std::string k_hex(64, 'a');

std::optional<ImageRef::Kind> kind_of(const std::string& path)
{
  const auto ref = parse_image_ref(path);
  return ref ? std::optional<ImageRef::Kind>(ref->kind) : std::nullopt;
}

} // namespace

BOOST_AUTO_TEST_SUITE(image_ref_detection)

BOOST_AUTO_TEST_CASE(docker_save_and_oci_archives_are_images_wherever_their_index_files_lie)
{
  test::TempDir tmp;
  // docker save (before Docker 25): manifest.json last, after HEX/ directories.
  write_tar(tmp.file("docker.tar"), {{k_hex, AE_IFDIR, ""},
                                     {k_hex + "/layer.tar", AE_IFREG, std::string(1024, 'l')},
                                     {k_hex + "/VERSION", AE_IFREG, "1.0"},
                                     {k_hex + ".json", AE_IFREG, "{}"},
                                     {"repositories", AE_IFREG, "{}"},
                                     {"manifest.json", AE_IFREG, "[]"}});
  BOOST_TEST((kind_of(tmp.file("docker.tar")) == ImageRef::Kind::docker_archive));
  // An OCI layout, with the "./" prefix `tar -C DIR .` gives.
  write_tar(tmp.file("oci.tar"), {{"./", AE_IFDIR, ""},
                                  {"./blobs/", AE_IFDIR, ""},
                                  {"./blobs/sha256/", AE_IFDIR, ""},
                                  {"./blobs/sha256/" + k_hex, AE_IFREG, "x"},
                                  {"./oci-layout", AE_IFREG, "{}"},
                                  {"./index.json", AE_IFREG, "{}"}});
  BOOST_TEST((kind_of(tmp.file("oci.tar")) == ImageRef::Kind::oci_archive));
  // oci-layout without index.json is no OCI layout.
  write_tar(tmp.file("half.tar"), {{"oci-layout", AE_IFREG, "{}"}});
  BOOST_TEST(!kind_of(tmp.file("half.tar")));
}

BOOST_AUTO_TEST_CASE(a_rootfs_is_a_layer_from_its_first_deep_path_or_device)
{
  test::TempDir tmp;
  // A manifest.json after a path four levels deep (or a device) is a rootfs's own file.
  write_tar(tmp.file("deep.tar"), {{"etc/apt/apt.conf.d/01autoremove", AE_IFREG, "x"},
                                   {"manifest.json", AE_IFREG, "[]"}});
  BOOST_TEST(!kind_of(tmp.file("deep.tar")));
  write_tar(tmp.file("fifo.tar"), {{"run/initctl", AE_IFIFO, ""}, {"manifest.json", AE_IFREG, "[]"}});
  BOOST_TEST(!kind_of(tmp.file("fifo.tar")));
  // Shallow files only: read to the end, and a top-level manifest.json makes it an image.
  write_tar(tmp.file("flat.tar"), {{"app/bin", AE_IFREG, "x"}, {"manifest.json", AE_IFREG, "[]"}});
  BOOST_TEST((kind_of(tmp.file("flat.tar")) == ImageRef::Kind::docker_archive));
  write_tar(tmp.file("nested.tar"), {{"sub/manifest.json", AE_IFREG, "[]"}});
  BOOST_TEST(!kind_of(tmp.file("nested.tar")));
}

BOOST_AUTO_TEST_CASE(compressed_tars_and_other_files_are_layers)
{
  test::TempDir tmp;
  write_tar(tmp.file("docker.tar.gz"), {{"manifest.json", AE_IFREG, "[]"}}, true);
  BOOST_TEST(!kind_of(tmp.file("docker.tar.gz")));
  util::write_file_atomic(tmp.file("junk"), std::string(3000, 'j'));
  BOOST_TEST(!kind_of(tmp.file("junk")));
  BOOST_TEST(!kind_of(tmp.file("missing")));
  BOOST_TEST(!kind_of("tar:" + tmp.file("docker.tar.gz")));
}

BOOST_AUTO_TEST_SUITE_END()
