// reproimg import: the reproducible `docker import` (rootfs -> one-layer OCI image).
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "image/dir_transport.hpp"
#include "image/import.hpp"
#include "util/error.hpp"

#include <cstdio>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # `tar -C rootfs -c . | docker import - base:1`, reproducibly, into an OCI layout:
  tar -C rootfs -c . | SOURCE_DATE_EPOCH=1700000000 reproimg import - --tag 1 -o base-oci
  skopeo inspect oci:base-oci:1
  # A debootstrap directory, as an oci-archive podman can load, with a default command:
  reproimg import dir:./rootfs --profile debian --format oci-archive --change 'CMD ["/bin/bash"]' -o base.tar
  # A docker-archive that `docker load` and `podman load` take, tagged busybox:repro:
  reproimg import dir:./rootfs --format docker-archive --tag busybox:repro -o busybox.tar
  # The empty base image (`tar cv --files-from /dev/null | docker import - scratch`):
  tar -cf - --files-from /dev/null | reproimg import - -o scratch-oci
)";

} // namespace

int cmd_import(int argc, char** argv)
{
  cxxopts::Options options("reproimg import",
                           "Turn a rootfs (tar in any compression, - for stdin, or dir:PATH) into a one-layer image.\n"
                           "The layer is normalised; the config's created time is E; the output is byte-deterministic.");
  options.positional_help("ROOTFS -o OUT");
  options.add_options()
    ("input", "rootfs: tar file, - for stdin, or dir:PATH (a directory; one holding skopeo's directory transport "
              "is an image, refused)", cxxopts::value<std::string>(), "ROOTFS")
    ("o,output", "OCI layout directory (new or empty), oci-archive or docker-archive file, or docker://REF (a push)",
     cxxopts::value<std::string>(), "OUT")
    ("format", "output format", cxxopts::value<std::string>()->default_value("oci"), "oci|oci-archive|docker-archive")
    ("tag", "OCI: the reference recorded in the index as given (org.opencontainers.image.ref.name: --tag hello:1 is "
            "read as oci:OUT:hello:1, as skopeo records it); "
            "docker-archive: the RepoTags entry name[:tag]", cxxopts::value<std::string>(), "TAG")
    ("platform", "image platform", cxxopts::value<std::string>()->default_value("linux/amd64"), "OS/ARCH[/VARIANT]")
    ("compress", "layer compression (a docker-archive's layer is always uncompressed)",
     cxxopts::value<std::string>()->default_value("gzip"), "none|gzip|zstd")
    ("c,change", "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR); repeatable",
     cxxopts::value<std::vector<std::string>>(), "INSTR")
    ("m,message", "history comment", cxxopts::value<std::string>(), "TEXT")
    ("json", "print the identities as JSON");
  add_threads_option(options);
  add_policy_options(options);
  add_output_options(options);
  add_registry_options(options);
  add_push_options(options);
  options.parse_positional({"input"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("input") || !r.count("output")) {
    throw util::Error("import: want ROOTFS and -o OUT (see reproimg import --help)");
  }
  image::ImportOptions opts;
  image_output_from(r, opts);
  if (r.count("change")) {
    opts.changes = r["change"].as<std::vector<std::string>>();
  }
  if (r.count("message")) {
    opts.message = r["message"].as<std::string>();
  }
  const Verbosity verbosity = verbosity_from(r);
  const readers::LayerSource rootfs = readers::parse_layer_source(r["input"].as<std::string>());
  if (rootfs.kind == readers::LayerSource::Kind::directory && image::holds_dir_transport(rootfs.path)) {
    throw util::Error(util::Location{rootfs.path, std::nullopt, std::nullopt},
                      "an image in skopeo's directory transport, not a rootfs: import packs a rootfs "
                      "(normalize, digest, diff and build FROM read images)");
  }
  normalize::Report report;
  const ImageDestination destination(r, r["output"].as<std::string>(), opts.format);
  opts.staged_blob = destination.upload_hook();
  const auto result = image::import_rootfs(rootfs, opts, destination.path(), report);
  print_warnings(report, verbosity);
  destination.push(r.count("json") > 0);
  if (r.count("json")) {
    // A docker-archive holds no registry manifest: its manifest_digest is null.
    const image::Json manifest = result.manifest_digest.empty() ? image::Json() : image::Json(result.manifest_digest);
    image::Json j = {{"manifest_digest", manifest},
                     {"config_digest", result.config_digest}, {"diff_id", result.diff_id},
                     {"layer_digest", result.layer_digest}, {"layer_size", result.layer_size}};
    std::printf("%s\n", j.dump(2).c_str());
  } else if (verbosity != Verbosity::quiet) {
    if (!result.manifest_digest.empty()) {
      std::printf("manifest  %s\n", result.manifest_digest.c_str());
    }
    std::printf("image ID  %s\ndiff_id   %s\nlayer     %s  (%llu bytes)\n", result.config_digest.c_str(),
                result.diff_id.c_str(), result.layer_digest.c_str(),
                static_cast<unsigned long long>(result.layer_size));
  }
  return util::exit_code(util::ExitCode::ok);
}

} // namespace reproimg::cli
