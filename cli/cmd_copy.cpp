// reproimg copy: an image from one place to another as it is (skopeo copy, crane copy): every blob
// checked, the bytes kept, so the copy has the source's manifest digest and image ID.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "image/image_copy.hpp"
#include "registry/reference.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <cstdio>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # Push a local image as it is: the registry gets the manifest digest the layout has:
  reproimg copy oci:base-oci:1 docker://registry.example/base:1
  # Pull an image into an OCI layout, each layer also decompressed and checked against its diff_id:
  reproimg copy --check-contents docker://registry.example/base:1 oci:pulled:1
  # From one registry to another, each side with its own credentials; the digest into a file:
  reproimg copy docker://registry.a/app:1 docker://registry.b/app:1 --src-creds reader --dest-creds writer --digestfile d
  # A multi-platform image whole: every image of the index and the index itself, its digest kept:
  reproimg copy --all docker://registry.example/base:1 oci:base-all:1
  # A `docker save` archive into an oci-archive (the image ID kept; an OCI manifest made for it):
  reproimg copy docker-archive:saved.tar oci-archive:saved-oci.tar
)";

// Where a copy goes, as skopeo spells a destination: oci:DIR[:TAG], oci-archive:FILE[:TAG],
// docker-archive:FILE[:NAME:TAG], docker://REF, or a directory (an OCI layout).
struct CopyDestination {
  image::ImageFormat format = image::ImageFormat::oci;
  std::string out;
  std::string reference; // the part after the path (skopeo splits at the first ':')
};

CopyDestination parse_destination(const std::string& spec)
{
  CopyDestination d;
  if (registry::is_registry_spec(spec)) {
    d.out = spec;
    return d;
  }
  auto with_prefix = [&](const char* prefix, image::ImageFormat format) {
    const std::string p = prefix;
    if (spec.rfind(p, 0) != 0) return false;
    const std::string rest = spec.substr(p.size());
    const auto colon = rest.find(':');
    d.format = format;
    d.out = rest.substr(0, colon);
    d.reference = colon == std::string::npos ? "" : rest.substr(colon + 1);
    return true;
  };
  if (with_prefix("oci:", image::ImageFormat::oci) || with_prefix("oci-archive:", image::ImageFormat::oci_archive) ||
      with_prefix("docker-archive:", image::ImageFormat::docker_archive)) {
    if (d.out.empty()) throw util::Error("copy: '" + util::printable(spec) + "' names no path");
    return d;
  }
  if (spec.rfind("dir:", 0) == 0) {
    throw util::Error("copy: skopeo's directory transport (dir:) is read, not written; copy to oci:DIR");
  }
  d.out = spec; // a directory: an OCI layout
  return d;
}

} // namespace

int cmd_copy(int argc, char** argv)
{
  cxxopts::Options options("reproimg copy",
                           "Copy an image as it is: every blob checked against its digest and size, the manifest and\n"
                           "config bytes kept, so the copy has the source's manifest digest and image ID.");
  options.positional_help("SOURCE DESTINATION");
  options.add_options()
    ("input", "the image: oci:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE[:name:tag], dir:DIR, docker://REF",
     cxxopts::value<std::string>(), "SOURCE")
    ("destination", "oci:DIR[:tag] (a new or empty directory), oci-archive:FILE[:tag], docker-archive:FILE[:name:tag], "
                    "docker://REF (a push), or DIR (an OCI layout)", cxxopts::value<std::string>(), "DESTINATION")
    ("platform", "for an image index: the platform to take (default: this machine's)", cxxopts::value<std::string>(),
     "OS/ARCH[/VARIANT]")
    ("all", "for an index: copy it whole, every image it lists and the index itself (its digest kept); "
            "without it one image is copied (--platform's)")
    ("check-contents", "also decompress every layer and check it against the config's diff_id (what digest, lock "
                       "and verify do when they read it); without it the blobs are checked as skopeo does, by digest and size");
  add_output_options(options);
  add_registry_options(options);
  add_source_options(options);
  add_push_options(options);
  options.parse_positional({"input", "destination"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("input") || !r.count("destination")) {
    throw util::Error("copy: want SOURCE and DESTINATION (see reproimg copy --help)");
  }
  const std::string source_spec = r["input"].as<std::string>();
  const std::optional<image::ImageRef> ref = image::parse_image_ref(source_spec);
  if (!ref) {
    throw util::Error(util::Location::of(source_spec),
                      "not an image (a layer or a rootfs: import or normalize make an image of it)");
  }
  const CopyDestination dest = parse_destination(r["destination"].as<std::string>());
  if (ref->kind != image::ImageRef::Kind::registry && (dest.out == ref->path || util::same_file(dest.out, ref->path))) {
    throw util::Error("copy: the destination would overwrite the source '" + util::printable(dest.out) + "'");
  }
  const bool all = r.count("all") > 0;
  if (all && r.count("platform")) {
    throw util::Error("copy: --all copies every platform; drop --platform");
  }
  std::optional<image::Platform> platform;
  if (r.count("platform")) {
    platform = image::parse_platform(r["platform"].as<std::string>());
  }
  const Verbosity verbosity = verbosity_from(r);
  // What can be wrong with the destination is said before anything is read.
  const ImageDestination destination(r, dest.out, dest.format);
  image::ImageTarget target;
  target.format = dest.format;
  target.out = destination.path();
  target.staged_blob = destination.upload_hook();
  if (dest.format == image::ImageFormat::docker_archive && !dest.reference.empty()) {
    target.repo_tags.push_back(image::parse_repo_tag(dest.reference));
  } else if (!dest.reference.empty()) {
    target.tag = image::parse_oci_ref_name(dest.reference);
  }
  const auto store = image::ImageStore::open(*ref);
  const std::optional<image::ImageIndex> index = all ? image::load_index(*store, *ref) : std::nullopt;
  if (index && dest.format == image::ImageFormat::docker_archive) {
    throw util::Error("copy: --all: a docker-archive takes one image, not an index (copy to oci: or oci-archive:)");
  }
  const image::Image img = index ? image::Image() : image::load_image(*store, *ref, platform);
  if (dest.format == image::ImageFormat::docker_archive && dest.reference.empty()) {
    target.repo_tags = img.repo_tags; // a docker-archive's own names travel with it
  }
  const auto check =
      r.count("check-contents") ? image::ImageWriter::LayerCheck::contents : image::ImageWriter::LayerCheck::blob;
  const image::WrittenImage written = index ? image::copy_index(*store, *index, target, check)
                                            : image::copy_image(*store, img, target, check);
  normalize::Report warnings;
  for (const auto& w : store->warnings()) warnings.warn(w);
  print_warnings(warnings, verbosity);
  destination.push(false);
  if (verbosity != Verbosity::quiet) {
    if (!written.manifest_digest.empty()) {
      std::printf("manifest  %s\n", written.manifest_digest.c_str());
    }
    if (index) {
      std::printf("images    %zu\n", index->images.size());
    } else {
      std::printf("image ID  %s\n", written.config_digest.c_str());
    }
  }
  return util::exit_code(util::ExitCode::ok);
}

} // namespace reproimg::cli
