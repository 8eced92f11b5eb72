// Comparing what two images say about themselves (manifest, config encoding, how each layer is
// stored) apart from what a transport changes: the container format (`format` records) is told from
// the manifest's own fields (`manifest` records).
#pragma once

#include "diff/difference.hpp"
#include "image/image_source.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reproimg::diff {

// "a/b" -> "a~1b": a JSON object key as a JSON pointer token (RFC 6901).
std::string pointer_escape(const std::string& key);
// j[key], or null when j is no object or has no such key.
Json member_or_null(const Json& j, const std::string& key);

// The image-level records of two images whose manifest digests differ:
//  - `format` at "manifest:": the manifests are of another schema (OCI, Docker schema 2, none at
//    all in a docker-archive), the config descriptors of another media type, or a field one side's
//    schema cannot hold (OCI annotations against a docker-archive); the containers are named;
//  - `format` at "config:": the configs are the same JSON in other bytes (another key order);
//  - `manifest` at "manifest:/KEY": any other manifest field that differs.
void compare_image_documents(const image::Image& a, const image::Image& b, std::vector<Difference>& out);

// Layer `layer` has the same diff_id in both images. Nothing when its blob and media type are the
// same; `format` when it is stored in another form (uncompressed in one, compressed in the other;
// or the same blob under another media type); `compression` when both are compressed, differently.
std::optional<Difference> compare_stored_layers(const image::LayerRef& a, const image::LayerRef& b, int layer);

// The records of two configs that differ: `config-created`, `config-history` per history entry,
// `config-field` per other field (rootfs aside: the layers say it).
void compare_configs(const Json& a, const Json& b, std::vector<Difference>& out);

// " (oci and dir hold the same manifest)" for two containers of one manifest; "" for one container.
std::string container_note(const image::Image& a, const image::Image& b);

// The summary line for the `format` records: which format differences, and that normalize removes them.
std::string format_hint(const std::vector<const Difference*>& records);

} // namespace reproimg::diff
