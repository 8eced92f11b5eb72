// The lock's JSON: round trip, strict refusals naming the JSON pointer, bytes independent of the
// order things were added in; the policy view of the files level.
#include "util/error.hpp"
#include "verify/lock.hpp"
#include "verify/verify.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>

using namespace reproimg;
using namespace reproimg::verify;

namespace {

const std::string k_digest = "sha256:" + std::string(64, 'a');

Lock sample()
{
  Lock lock;
  lock.kind = InputKind::image;
  lock.policy.epoch = 1700000000;
  lock.policy.uid_map[1000] = 0;
  lock.policy.excludes = {"var/log/*"};
  LockedImage img;
  img.platform = "linux/amd64";
  img.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
  img.manifest_digest = k_digest;
  img.manifest = {{"schemaVersion", 2}};
  img.config_digest = k_digest;
  img.config_size = 10;
  img.config = {{"os", "linux"}};
  img.canonical_config_digest = k_digest;
  img.layers.push_back({"application/vnd.oci.image.layer.v1.tar+gzip", "gzip", k_digest, 123, k_digest, k_digest, k_digest});
  LockedFile dir;
  dir.path = "etc";
  dir.type = readers::EntryType::directory;
  dir.mode = 0755;
  LockedFile file;
  file.path = "etc/os-release";
  file.mode = 0644;
  file.size = 9;
  file.sha256 = k_digest;
  file.mtime = 1000;
  file.xattrs = {{"user.x", k_digest}};
  LockedFile link;
  link.path = "etc/os";
  link.type = readers::EntryType::hardlink;
  link.link_target = "etc/os-release";
  img.files = std::vector<LockedFile>{dir, link, file};
  lock.images.push_back(img);
  return lock;
}

// The error message of reading text as a lock ("" when it is read).
std::string refusal(const std::string& text)
{
  try {
    lock_from_json(text, "x.lock");
  } catch (const util::Error& e) {
    BOOST_CHECK(e.code() == util::ExitCode::bad_input);
    return e.what();
  }
  return "";
}

std::string edited(const std::function<void(image::Json&)>& edit)
{
  image::Json j = image::Json::parse(lock_to_json(sample()));
  edit(j);
  return j.dump();
}

} // namespace

BOOST_AUTO_TEST_SUITE(lock_file)

BOOST_AUTO_TEST_CASE(round_trip_is_byte_identical)
{
  const std::string text = lock_to_json(sample());
  const Lock back = lock_from_json(text, "x.lock");
  BOOST_TEST(lock_to_json(back) == text);
  BOOST_TEST(back.images.at(0).files->size() == 3u);
  BOOST_TEST(back.policy.uid_map.at(1000) == 0);
  BOOST_TEST(text.back() == '\n');
  BOOST_TEST(text.find("\"hardlink_groups\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(refusals_name_file_and_pointer)
{
  BOOST_TEST(refusal(lock_to_json(sample())).empty());
  BOOST_TEST(refusal(edited([](auto& j) { j["schema"] = "reproimg-lock/2"; })).find("x.lock: /schema:") != std::string::npos);
  BOOST_TEST(refusal("{\"schema\": ").find("x.lock") != std::string::npos);
  BOOST_TEST(refusal("[]").find("x.lock: /: must be an object") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["files"][0]["mode"] = 010000; }))
                 .find("/images/0/files/0/mode: out of range") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["files"][0]["uid"] = -1; })).find("/images/0/files/0/uid") !=
             std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["files"][2]["sha256"] = "sha256:ABC"; }))
                 .find("/images/0/files/2/sha256: not a sha256 digest") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["files"][0]["path"] = "/etc"; }))
                 .find("/images/0/files/0/path: not a canonical") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["files"][1]["path"] = "etc"; }))
                 .find("/images/0/files/1/path: paths must be sorted") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["files"][0]["type"] = "socket"; }))
                 .find("/images/0/files/0/type: unknown type") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["layers"][0].erase("diff_id"); }))
                 .find("/images/0/layers/0/diff_id: missing") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["policy"]["mtime"] = "later"; })).find("/policy/mtime") != std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"] = image::Json::array(); })).find("/images: must not be empty") !=
             std::string::npos);
  BOOST_TEST(refusal(edited([](auto& j) { j["images"][0]["size"] = "big"; })).empty()); // unknown keys: ignored
}

BOOST_AUTO_TEST_CASE(bytes_do_not_depend_on_insertion_order)
{
  Lock a = sample();
  Lock b = sample();
  b.policy.uid_map.clear();
  b.policy.uid_map[1000] = 0;
  std::reverse(b.images[0].files->begin(), b.images[0].files->end());
  std::sort(b.images[0].files->begin(), b.images[0].files->end(),
            [](const LockedFile& x, const LockedFile& y) { return x.path < y.path; });
  BOOST_TEST(lock_to_json(a) == lock_to_json(b));
}

BOOST_AUTO_TEST_CASE(policy_view_clamps_maps_and_drops)
{
  normalize::Policy p;
  p.epoch = 500;
  p.uid_map[1000] = 0;
  p.excludes = {"var/log/*"};
  p.truncates = {"etc/machine-id"};
  LockedFile f;
  f.path = "etc/machine-id";
  f.size = 33;
  f.sha256 = k_digest;
  f.mtime = 900;
  f.mtime_nsec = 5;
  f.uid = 1000;
  f.uname = "user";
  f.xattrs = {{"security.capability", k_digest}, {"user.x", k_digest}};
  const auto n = as_normalized(f, p);
  BOOST_REQUIRE(n);
  BOOST_TEST(n->mtime == 500);
  BOOST_TEST(n->mtime_nsec == 0);
  BOOST_TEST(n->uid == 0);
  BOOST_TEST(n->uname.empty());
  BOOST_TEST(n->size == 0u);
  BOOST_TEST(n->xattrs.size() == 1u);
  f.mtime = 100; // before E: kept
  BOOST_TEST(as_normalized(f, p)->mtime == 100);
  f.path = "var/log/app.log";
  BOOST_TEST(!as_normalized(f, p));
}

BOOST_AUTO_TEST_SUITE_END()
