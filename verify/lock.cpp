// The lock's JSON form: a deterministic writer and a strict reader.
#include "verify/lock.hpp"

#include "digest/sha256.hpp"
#include "normalize/path.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cstdio>

namespace reproimg::verify {

namespace {

using image::Json;
using readers::EntryType;

constexpr EntryType k_types[] = {EntryType::regular,  EntryType::hardlink,  EntryType::symlink, EntryType::chardev,
                                 EntryType::blockdev, EntryType::directory, EntryType::fifo};

Json layer_to_json(const LockedLayer& l)
{
  return {{"media_type", l.media_type}, {"compression", l.compression}, {"digest", l.digest},  {"size", l.size},
          {"diff_id", l.diff_id},       {"chain_id", l.chain_id},       {"canonical_diff_id", l.canonical_diff_id}};
}

Json file_to_json(const LockedFile& f)
{
  Json j = {{"path", f.path}, {"type", readers::type_name(f.type)}, {"mode", f.mode},
            {"uid", f.uid},   {"gid", f.gid},                       {"mtime", f.mtime}};
  if (f.mtime_nsec != 0) j["mtime_nsec"] = f.mtime_nsec;
  if (!f.uname.empty()) j["uname"] = f.uname;
  if (!f.gname.empty()) j["gname"] = f.gname;
  if (f.type == EntryType::regular) {
    j["size"] = f.size;
    j["sha256"] = f.sha256;
  }
  if (f.type == EntryType::symlink || f.type == EntryType::hardlink) j["link_target"] = f.link_target;
  if (f.type == EntryType::chardev || f.type == EntryType::blockdev) j["device"] = f.device;
  if (!f.xattrs.empty()) {
    Json x = Json::object();
    for (const auto& [name, digest] : f.xattrs) x[name] = digest;
    j["xattrs"] = x;
  }
  return j;
}

// The hardlink groups of a file list: each data path with the paths sharing it, sorted.
Json hardlink_groups(const std::vector<LockedFile>& files)
{
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& f : files) {
    if (f.type == EntryType::hardlink) groups[f.link_target].push_back(f.path);
  }
  Json out = Json::array();
  for (auto& [data, links] : groups) {
    links.push_back(data);
    std::sort(links.begin(), links.end());
    out.push_back(links);
  }
  return out;
}

Json image_to_json(const LockedImage& img)
{
  Json layers = Json::array();
  for (const auto& l : img.layers) layers.push_back(layer_to_json(l));
  Json j = {{"platform", img.platform},
            {"manifest_media_type", img.manifest_media_type},
            {"manifest_digest", img.manifest_digest},
            {"manifest", img.manifest},
            {"config_digest", img.config_digest},
            {"config_size", img.config_size},
            {"config", img.config},
            {"created", img.created},
            {"canonical_config_digest", img.canonical_config_digest},
            {"layers", layers}};
  if (img.files) {
    Json files = Json::array();
    for (const auto& f : *img.files) files.push_back(file_to_json(f));
    j["files"] = files;
    j["hardlink_groups"] = hardlink_groups(*img.files);
  }
  return j;
}

// Reading with the JSON pointer of every field at hand, for the messages.
class Reader {
public:
  explicit Reader(std::string file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(const std::string& pointer, const std::string& what) const
  {
    throw util::Error(util::Location{m_file, std::nullopt, std::nullopt},
                      (pointer.empty() ? std::string("/") : pointer) + ": " + what);
  }
  const Json& field(const Json& obj, const std::string& at, const char* key) const
  {
    if (!obj.is_object()) fail(at, "must be an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(at + "/" + key, "missing");
    return *it;
  }
  std::string string(const Json& obj, const std::string& at, const char* key) const
  {
    const Json& v = field(obj, at, key);
    if (!v.is_string()) fail(at + "/" + key, "must be a string");
    return v.get<std::string>();
  }
  std::string optional_string(const Json& obj, const std::string& at, const char* key) const
  {
    return obj.contains(key) ? string(obj, at, key) : std::string();
  }
  std::int64_t integer(const Json& obj, const std::string& at, const char* key, std::int64_t lo, std::int64_t hi) const
  {
    const Json& v = field(obj, at, key);
    if (!v.is_number_integer()) fail(at + "/" + key, "must be an integer");
    const bool is_unsigned = v.is_number_unsigned();
    if (is_unsigned && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) fail(at + "/" + key, "out of range");
    const std::int64_t n = is_unsigned ? static_cast<std::int64_t>(v.get<std::uint64_t>()) : v.get<std::int64_t>();
    if (n < lo || n > hi) fail(at + "/" + key, "out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
    return n;
  }
  // "sha256:" and 64 lowercase hex digits; "" allowed when empty_ok.
  std::string digest(const Json& obj, const std::string& at, const char* key, bool empty_ok) const
  {
    const std::string s = string(obj, at, key);
    if (s.empty() && empty_ok) return s;
    const bool ok = s.size() == 71 && s.rfind("sha256:", 0) == 0 &&
                    std::all_of(s.begin() + 7, s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!ok) fail(at + "/" + key, "not a sha256 digest (sha256: and 64 lowercase hex digits)");
    return s;
  }
  const Json& array(const Json& obj, const std::string& at, const char* key) const
  {
    const Json& v = field(obj, at, key);
    if (!v.is_array()) fail(at + "/" + key, "must be an array");
    return v;
  }

private:
  std::string m_file;
};

constexpr std::int64_t k_max_id = 0xffffffffLL;
constexpr std::int64_t k_max_int = INT64_MAX;

LockedLayer read_layer(const Reader& r, const Json& j, const std::string& at, InputKind kind)
{
  LockedLayer l;
  const bool rootfs = kind == InputKind::rootfs;
  l.media_type = r.string(j, at, "media_type");
  l.compression = r.string(j, at, "compression");
  l.digest = r.digest(j, at, "digest", rootfs);
  l.size = static_cast<std::uint64_t>(r.integer(j, at, "size", 0, k_max_int));
  l.diff_id = r.digest(j, at, "diff_id", rootfs);
  l.chain_id = r.digest(j, at, "chain_id", rootfs);
  l.canonical_diff_id = r.digest(j, at, "canonical_diff_id", false);
  return l;
}

EntryType read_type(const Reader& r, const Json& j, const std::string& at)
{
  const std::string name = r.string(j, at, "type");
  for (const EntryType t : k_types) {
    if (name == readers::type_name(t)) return t;
  }
  r.fail(at + "/type", "unknown type '" + util::printable(name) + "'");
}

LockedFile read_file(const Reader& r, const Json& j, const std::string& at)
{
  LockedFile f;
  f.path = r.string(j, at, "path");
  const auto c = normalize::canonical_path(f.path);
  if (c.status != normalize::PathStatus::ok || c.path != f.path) r.fail(at + "/path", "not a canonical relative path");
  f.type = read_type(r, j, at);
  f.mode = static_cast<std::uint32_t>(r.integer(j, at, "mode", 0, 07777));
  f.uid = r.integer(j, at, "uid", 0, k_max_id);
  f.gid = r.integer(j, at, "gid", 0, k_max_id);
  f.mtime = r.integer(j, at, "mtime", INT64_MIN / 2, k_max_int);
  f.mtime_nsec = j.contains("mtime_nsec") ? static_cast<long>(r.integer(j, at, "mtime_nsec", 0, 999999999)) : 0;
  f.uname = r.optional_string(j, at, "uname");
  f.gname = r.optional_string(j, at, "gname");
  if (f.type == EntryType::regular) {
    f.size = static_cast<std::uint64_t>(r.integer(j, at, "size", 0, k_max_int));
    f.sha256 = r.digest(j, at, "sha256", false);
  }
  if (f.type == EntryType::symlink || f.type == EntryType::hardlink) f.link_target = r.string(j, at, "link_target");
  if (f.type == EntryType::chardev || f.type == EntryType::blockdev) f.device = r.string(j, at, "device");
  if (j.contains("xattrs")) {
    const Json& x = j["xattrs"];
    if (!x.is_object()) r.fail(at + "/xattrs", "must be an object");
    for (auto it = x.begin(); it != x.end(); ++it) f.xattrs.emplace_back(it.key(), r.digest(x, at + "/xattrs", it.key().c_str(), false));
  }
  return f;
}

LockedImage read_image(const Reader& r, const Json& j, const std::string& at, InputKind kind)
{
  LockedImage img;
  const bool image = kind == InputKind::image;
  img.platform = r.string(j, at, "platform");
  img.manifest_media_type = r.string(j, at, "manifest_media_type");
  img.manifest_digest = r.digest(j, at, "manifest_digest", true);
  img.manifest = r.field(j, at, "manifest");
  if (!img.manifest.is_null() && !img.manifest.is_object()) r.fail(at + "/manifest", "must be an object or null");
  img.config_digest = r.digest(j, at, "config_digest", !image);
  img.config_size = static_cast<std::uint64_t>(r.integer(j, at, "config_size", 0, k_max_int));
  img.config = r.field(j, at, "config");
  if (image ? !img.config.is_object() : !img.config.is_null()) r.fail(at + "/config", image ? "must be an object" : "must be null");
  img.created = r.string(j, at, "created");
  img.canonical_config_digest = r.digest(j, at, "canonical_config_digest", !image);
  const Json& layers = r.array(j, at, "layers");
  if (!image && layers.size() != 1) r.fail(at + "/layers", "a layer or rootfs lock has exactly one layer");
  for (size_t i = 0; i < layers.size(); ++i) img.layers.push_back(read_layer(r, layers[i], at + "/layers/" + std::to_string(i), kind));
  if (j.contains("files")) {
    const Json& files = r.array(j, at, "files");
    std::vector<LockedFile> out;
    out.reserve(files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      const std::string fat = at + "/files/" + std::to_string(i);
      out.push_back(read_file(r, files[i], fat));
      if (i > 0 && !(out[i - 1].path < out[i].path)) r.fail(fat + "/path", "paths must be sorted and unique");
    }
    img.files = std::move(out);
  }
  return img;
}

normalize::Policy read_policy(const Reader& r, const Json& j, const std::string& at)
{
  normalize::Policy p;
  p.epoch = r.integer(j, at, "source_date_epoch", 0, k_max_int);
  const std::string mtime = r.string(j, at, "mtime");
  if (mtime != "clamp" && mtime != "set") r.fail(at + "/mtime", "must be clamp or set");
  p.mtime = mtime == "clamp" ? normalize::MtimePolicy::clamp : normalize::MtimePolicy::set;
  const Json& owner = r.field(j, at, "owner");
  if (!owner.is_null()) {
    p.owner = std::make_pair(r.integer(owner, at + "/owner", "uid", 0, k_max_id), r.integer(owner, at + "/owner", "gid", 0, k_max_id));
  }
  for (const char* which : {"uid_map", "gid_map"}) {
    const Json& m = r.array(j, at, which);
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string mat = at + "/" + which + "/" + std::to_string(i);
      (which[0] == 'u' ? p.uid_map : p.gid_map)[r.integer(m[i], mat, "from", 0, k_max_id)] = r.integer(m[i], mat, "to", 0, k_max_id);
    }
  }
  const Json& keep = r.field(j, at, "keep_names");
  if (!keep.is_boolean()) r.fail(at + "/keep_names", "must be true or false");
  p.keep_names = keep.get<bool>();
  const std::string x = r.string(j, at, "xattrs");
  if (x == "capability") p.xattrs = normalize::XattrPolicy::capability;
  else if (x == "all") p.xattrs = normalize::XattrPolicy::all;
  else if (x == "none") p.xattrs = normalize::XattrPolicy::none;
  else r.fail(at + "/xattrs", "must be capability, all or none");
  for (const char* which : {"exclude", "truncate", "profiles"}) {
    const Json& list = r.array(j, at, which);
    auto& out = which[0] == 'e' ? p.excludes : which[0] == 't' ? p.truncates : p.profiles;
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string()) r.fail(at + "/" + which + "/" + std::to_string(i), "must be a string");
      out.push_back(list[i].get<std::string>());
    }
  }
  return p;
}

} // namespace

const char* input_kind_name(InputKind kind)
{
  switch (kind) {
  case InputKind::image: return "image";
  case InputKind::layer: return "layer";
  case InputKind::rootfs: return "rootfs";
  }
  return "image";
}

Json policy_to_json(const normalize::Policy& p)
{
  Json uid_map = Json::array();
  Json gid_map = Json::array();
  for (const auto& [from, to] : p.uid_map) uid_map.push_back({{"from", from}, {"to", to}});
  for (const auto& [from, to] : p.gid_map) gid_map.push_back({{"from", from}, {"to", to}});
  const char* xattrs = p.xattrs == normalize::XattrPolicy::all    ? "all"
                       : p.xattrs == normalize::XattrPolicy::none ? "none"
                                                                  : "capability";
  return {{"source_date_epoch", p.epoch},
          {"mtime", p.mtime == normalize::MtimePolicy::clamp ? "clamp" : "set"},
          {"owner", p.owner ? Json{{"uid", p.owner->first}, {"gid", p.owner->second}} : Json(nullptr)},
          {"uid_map", uid_map},
          {"gid_map", gid_map},
          {"keep_names", p.keep_names},
          {"xattrs", xattrs},
          {"exclude", p.excludes},
          {"truncate", p.truncates},
          {"profiles", p.profiles}};
}

std::string lock_to_json(const Lock& lock)
{
  Json images = Json::array();
  for (const auto& img : lock.images) images.push_back(image_to_json(img));
  const Json doc = {{"schema", k_lock_schema}, {"input", input_kind_name(lock.kind)}, {"policy", policy_to_json(lock.policy)},
                    {"images", images}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Lock lock_from_json(const std::string& text, const std::string& file)
{
  const Reader r(file);
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw util::Error(util::Location{file, std::nullopt, static_cast<std::int64_t>(e.byte)}, "not JSON (a lock file is JSON)");
  }
  const std::string schema = r.string(doc, "", "schema");
  if (schema != k_lock_schema) {
    r.fail("/schema", "'" + util::printable(schema) + "' is not " + k_lock_schema + " (a lock of another version or no lock)");
  }
  Lock lock;
  const std::string kind = r.string(doc, "", "input");
  if (kind == "image") lock.kind = InputKind::image;
  else if (kind == "layer") lock.kind = InputKind::layer;
  else if (kind == "rootfs") lock.kind = InputKind::rootfs;
  else r.fail("/input", "must be image, layer or rootfs");
  lock.policy = read_policy(r, r.field(doc, "", "policy"), "/policy");
  const Json& images = r.array(doc, "", "images");
  if (images.empty()) r.fail("/images", "must not be empty");
  if (lock.kind != InputKind::image && images.size() != 1) r.fail("/images", "a layer or rootfs lock has one record");
  for (size_t i = 0; i < images.size(); ++i) {
    lock.images.push_back(read_image(r, images[i], "/images/" + std::to_string(i), lock.kind));
  }
  return lock;
}

std::string read_lock_bytes(const std::string& path)
{
  util::Fd fd = util::open_read(path);
  std::string text;
  char buf[65536];
  for (;;) {
    const size_t n = util::read_full(fd.get(), buf, sizeof buf, path);
    text.append(buf, n);
    if (n < sizeof buf) break;
    if (text.size() > (1ull << 30)) throw util::Error(util::Location{path, std::nullopt, std::nullopt}, "larger than 1 GiB: no lock");
  }
  return text;
}

std::string xattr_value_digest(const std::string& value)
{
  return digest::sha256_digest(value);
}

diff::FileRecord record_of_locked(const LockedFile& f)
{
  diff::FileRecord r;
  r.path = f.path;
  r.type = f.type;
  r.mode = f.mode;
  r.uid = f.uid;
  r.gid = f.gid;
  r.uname = f.uname;
  r.gname = f.gname;
  r.mtime = f.mtime;
  r.mtime_nsec = f.mtime_nsec;
  r.size = f.size;
  r.link_target = f.link_target;
  unsigned major = 0;
  unsigned minor = 0;
  if (!f.device.empty() && std::sscanf(f.device.c_str(), "%u:%u", &major, &minor) == 2) {
    r.devmajor = major;
    r.devminor = minor;
  }
  r.xattrs = f.xattrs;
  if (f.type == EntryType::regular) {
    r.content.kind = diff::ContentHandle::Kind::digest_only;
    r.content.sha256 = f.sha256;
  }
  return r;
}

LockedFile locked_of_record(const diff::FileRecord& r)
{
  LockedFile f;
  f.path = util::printable(r.path);
  f.type = r.type;
  f.mode = r.mode & 07777;
  f.uid = r.uid;
  f.gid = r.gid;
  f.uname = util::printable(r.uname);
  f.gname = util::printable(r.gname);
  f.mtime = r.mtime;
  f.mtime_nsec = r.mtime_nsec;
  f.size = r.type == EntryType::regular ? r.size : 0;
  f.sha256 = r.type == EntryType::regular ? diff::content_digest(r) : "";
  f.link_target = util::printable(r.link_target);
  if (r.type == EntryType::chardev || r.type == EntryType::blockdev) {
    f.device = std::to_string(r.devmajor) + ":" + std::to_string(r.devminor);
  }
  for (const auto& [name, value] : r.xattrs) f.xattrs.emplace_back(util::printable(name), xattr_value_digest(value));
  return f;
}

} // namespace reproimg::verify
