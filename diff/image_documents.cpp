// Manifest and container-format comparison of two images (docs/diff-causes.md, `format`).
//
// What a transport decides is not the image: skopeo and podman move one image between an OCI
// layout, an oci-archive, a docker-archive and their directory transport, and on the way the
// manifest changes schema (OCI, Docker schema 2, or none: a docker-archive's manifest.json is no
// registry manifest), media types change names (OCI or Docker for the same bytes; podman's
// docker-dir even labels uncompressed layers ".tar.gzip"), layers are decompressed (docker-archive
// stores plain tars) and the config may be re-encoded (skopeo writes Docker configs with its own
// key order). Each of those is a `format` record: normalisable, since `reproimg normalize` of both
// sides writes one image. A field the manifests both can hold but set differently stays `manifest`.
#include "diff/image_documents.hpp"

#include "image/media_types.hpp"

#include <set>
#include <utility>

namespace reproimg::diff {

namespace {

using image::Json;

Json string_or_null(const std::string& s)
{
  return s.empty() ? Json(nullptr) : Json(s);
}

Json parse_or_null(const std::string& bytes)
{
  if (bytes.empty()) return Json(nullptr);
  try {
    return Json::parse(bytes);
  } catch (const std::exception&) {
    return Json(nullptr);
  }
}

// Can a manifest of this media type ("" for none at all) hold this top-level field? Docker schema 2
// has schemaVersion, mediaType, config and layers; the OCI manifest adds annotations, subject,
// artifactType (and whatever extensions it carries).
bool schema_holds(const std::string& manifest_media_type, const std::string& key)
{
  if (manifest_media_type.empty()) {
    return false;
  }
  if (manifest_media_type == image::media::docker_manifest) {
    return key == "schemaVersion" || key == "mediaType" || key == "config" || key == "layers";
  }
  return true;
}

std::string config_media_type(const Json& manifest)
{
  const Json c = member_or_null(manifest, "config");
  const Json mt = member_or_null(c, "mediaType");
  return mt.is_string() ? mt.get<std::string>() : "";
}

// The manifest fields: those that say the format (mediaType, schemaVersion when the schemas are
// the same but spelled otherwise; fields one schema cannot hold) go to the format record, the rest
// are `manifest` records.
void compare_manifest_fields(const image::Image& a, const image::Image& b, const Json& ma, const Json& mb,
                             Difference& format, std::vector<Difference>& out)
{
  std::set<std::string> keys;
  for (const Json* j : {&ma, &mb}) {
    if (j->is_object()) for (auto it = j->begin(); it != j->end(); ++it) keys.insert(it.key());
  }
  const bool same_schema = a.manifest_media_type == b.manifest_media_type;
  for (const auto& key : keys) {
    if (key == "config" || key == "layers") continue; // they speak for themselves
    const Json x = member_or_null(ma, key);
    const Json y = member_or_null(mb, key);
    if (x == y) continue;
    if (key == "mediaType" || key == "schemaVersion") {
      if (same_schema) format.add("manifest." + key, x, y); // spelled otherwise (OCI may omit mediaType)
      continue;                                            // else the media types say it
    }
    const bool lost = (x.is_null() && !schema_holds(a.manifest_media_type, key)) ||
                      (y.is_null() && !schema_holds(b.manifest_media_type, key));
    if (lost) {
      format.add("manifest." + key, x, y);
      continue;
    }
    Difference d;
    d.cause = Cause::manifest;
    d.path = "manifest:/" + pointer_escape(key);
    d.add("value", x, y);
    out.push_back(std::move(d));
  }
}

std::string short_media_type(const Json& v)
{
  if (!v.is_string()) return "none (docker-archive)";
  const std::string s = v.get<std::string>();
  if (s == image::media::oci_manifest) return "OCI";
  if (s == image::media::docker_manifest) return "Docker schema 2";
  if (s == image::media::oci_config) return "OCI";
  if (s == image::media::docker_config) return "Docker";
  return s;
}

std::string count_layers(size_t n)
{
  return std::to_string(n) + (n == 1 ? " layer" : " layers");
}

} // namespace

std::string pointer_escape(const std::string& key)
{
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

Json member_or_null(const Json& j, const std::string& key)
{
  return j.is_object() && j.contains(key) ? j.at(key) : Json(nullptr);
}

void compare_image_documents(const image::Image& a, const image::Image& b, std::vector<Difference>& out)
{
  const Json ma = parse_or_null(a.manifest_bytes);
  const Json mb = parse_or_null(b.manifest_bytes);
  Difference format;
  format.cause = Cause::format;
  format.path = "manifest:";
  format.normalizable = true;
  if (a.manifest_media_type != b.manifest_media_type) {
    format.add("manifest_media_type", string_or_null(a.manifest_media_type), string_or_null(b.manifest_media_type));
  }
  const std::string ca = config_media_type(ma);
  const std::string cb = config_media_type(mb);
  if (ca != cb && !ma.is_null() && !mb.is_null()) { // without a manifest, the manifest record says it
    format.add("config_media_type", string_or_null(ca), string_or_null(cb));
  }
  compare_manifest_fields(a, b, ma, mb, format, out);
  if (!format.attributes.empty()) {
    if (a.ref.kind != b.ref.kind) {
      format.attributes.insert(format.attributes.begin(),
                               std::make_pair(std::string("container"),
                                              std::make_pair(Json(image::kind_name(a.ref.kind)),
                                                             Json(image::kind_name(b.ref.kind)))));
    }
    out.push_back(std::move(format));
  }
  // The same JSON in other bytes: an encoder's key order or spacing, not a setting.
  if (a.config_digest != b.config_digest && a.config == b.config) {
    Difference d;
    d.cause = Cause::format;
    d.path = "config:";
    d.normalizable = true;
    d.add("config_digest", a.config_digest, b.config_digest);
    d.add("config_size", a.config_bytes.size(), b.config_bytes.size());
    out.push_back(std::move(d));
  }
}

std::optional<Difference> compare_stored_layers(const image::LayerRef& a, const image::LayerRef& b, int layer)
{
  if (a.digest == b.digest && a.media_type == b.media_type) {
    return std::nullopt;
  }
  Difference d;
  d.layer = layer;
  d.normalizable = true;
  const bool one_uncompressed = (a.stored_compression == "none") != (b.stored_compression == "none");
  d.cause = a.digest == b.digest || one_uncompressed ? Cause::format : Cause::compression;
  d.add("media_type", a.media_type, b.media_type);
  d.add("compression", a.stored_compression, b.stored_compression);
  d.add("blob_size", a.size, b.size);
  d.add("blob_digest", a.digest, b.digest);
  return d;
}

std::string container_note(const image::Image& a, const image::Image& b)
{
  if (a.ref.kind == b.ref.kind) {
    return "";
  }
  return std::string(" (") + image::kind_name(a.ref.kind) + " and " + image::kind_name(b.ref.kind) +
         " hold the same manifest)";
}

std::string format_hint(const std::vector<const Difference*>& records)
{
  std::vector<std::string> facts;
  size_t decompressed = 0;
  size_t renamed = 0;
  for (const Difference* d : records) {
    if (d->layer) {
      for (const auto& [name, v] : d->attributes) {
        if (name == "compression") (v.first == v.second ? renamed : decompressed) += 1;
      }
      continue;
    }
    if (d->path == "config:") {
      facts.push_back("the config re-encoded: same JSON, other bytes");
      continue;
    }
    for (const auto& [name, v] : d->attributes) {
      if (name == "container") {
        facts.push_back(v.first.get<std::string>() + " vs " + v.second.get<std::string>());
      } else if (name == "manifest_media_type") {
        facts.push_back("manifest " + short_media_type(v.first) + " vs " + short_media_type(v.second));
      } else if (name == "config_media_type") {
        facts.push_back("config media type " + short_media_type(v.first) + " vs " + short_media_type(v.second));
      } else {
        facts.push_back(name + " only where the format can hold it");
      }
    }
  }
  if (decompressed) {
    facts.push_back(count_layers(decompressed) + " stored uncompressed in one, compressed in the other");
  }
  if (renamed) {
    facts.push_back(count_layers(renamed) + " under other media types");
  }
  std::string joined;
  for (const auto& f : facts) joined += (joined.empty() ? "" : "; ") + f;
  return "the same image held in another format (" + joined +
         "): what a transport does, not content; `reproimg normalize` writes both as the same image";
}

// See image_documents.hpp.
void compare_configs(const Json& a, const Json& b, std::vector<Difference>& out)
{
  auto rec = [&](Cause c, std::string path, Json x, Json y, bool normalizable, const std::string& attr = "value") {
    Difference d;
    d.cause = c;
    d.path = std::move(path);
    d.normalizable = normalizable;
    d.add(attr, std::move(x), std::move(y));
    out.push_back(std::move(d));
  };
  std::set<std::string> keys;
  for (const Json* j : {&a, &b}) {
    if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) keys.insert(it.key());
    }
  }
  for (const auto& key : keys) {
    const Json x = member_or_null(a, key);
    const Json y = member_or_null(b, key);
    if (x == y || key == "rootfs") {
      continue;
    }
    if (key == "created") {
      rec(Cause::config_created, "config:/created", x, y, true, "created");
    } else if (key == "history") {
      const size_t n = std::max(x.is_array() ? x.size() : 0, y.is_array() ? y.size() : 0);
      for (size_t i = 0; i < n; ++i) {
        const Json hx = x.is_array() && i < x.size() ? x[i] : Json(nullptr);
        const Json hy = y.is_array() && i < y.size() ? y[i] : Json(nullptr);
        if (hx == hy) continue;
        Difference d;
        d.cause = Cause::config_history;
        d.path = "config:/history/" + std::to_string(i);
        std::set<std::string> fields;
        for (const Json* h : {&hx, &hy}) {
          if (h->is_object()) for (auto it = h->begin(); it != h->end(); ++it) fields.insert(it.key());
        }
        bool only_created = hx.is_object() && hy.is_object();
        for (const auto& f : fields) {
          const Json fx = member_or_null(hx, f);
          const Json fy = member_or_null(hy, f);
          if (fx != fy) {
            d.add(f, fx, fy);
            only_created = only_created && f == "created";
          }
        }
        if (!hx.is_object() || !hy.is_object()) d.add("entry", hx, hy);
        d.normalizable = only_created;
        out.push_back(std::move(d));
      }
    } else if (key == "config" && x.is_object() && y.is_object()) {
      std::set<std::string> fields;
      for (auto it = x.begin(); it != x.end(); ++it) fields.insert(it.key());
      for (auto it = y.begin(); it != y.end(); ++it) fields.insert(it.key());
      for (const auto& f : fields) {
        const Json fx = member_or_null(x, f);
        const Json fy = member_or_null(y, f);
        if (fx != fy) rec(Cause::config_field, "config:/config/" + pointer_escape(f), fx, fy, false);
      }
    } else {
      rec(Cause::config_field, "config:/" + pointer_escape(key), x, y, false);
    }
  }
}

} // namespace reproimg::diff
