// reproimg build: the reproducible `docker build` of a one-stage Dockerfile, FROM scratch or FROM a
// local image (no daemon).
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "dockerfile/build.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # A static binary and its configuration, as an OCI layout skopeo and podman read:
  cat > Dockerfile <<'END'
  FROM scratch
  ARG VERSION=1.0
  COPY --chmod=755 hello /usr/local/bin/hello
  ADD rootfs-extra.tar.gz /
  ENV APP_VERSION=$VERSION
  LABEL org.opencontainers.image.version=$VERSION
  CMD ["/usr/local/bin/hello"]
  END
  SOURCE_DATE_EPOCH=1700000000 reproimg build -f Dockerfile . --tag hello:1.0 -o hello-oci
  skopeo inspect oci:hello-oci:hello:1.0
  # The same image as an oci-archive, with a build argument:
  reproimg build . --build-arg VERSION=1.1 --format oci-archive -o hello.tar
  # On a local base image (its layers kept byte for byte), as a docker-archive docker load takes:
  printf 'FROM oci:base-oci:1\nCOPY app /usr/local/bin/app\nCMD ["app"]\n' > Dockerfile.app
  reproimg build -f Dockerfile.app . --format docker-archive --tag app:1 -o app.tar
RUN is refused (there is no container runtime): build a rootfs with debootstrap and `reproimg import` it.
)";

} // namespace

int cmd_build(int argc, char** argv)
{
  cxxopts::Options options("reproimg build",
                           "Build a Dockerfile over a context directory, reproducibly and without a daemon.\n"
                           "FROM scratch or an image (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
                           "dir:DIR holding skopeo's directory transport, docker://REF from a registry), whose layers are kept as they are; each ADD and\n"
                           "COPY is one canonical layer on top; every new time is E; RUN is refused.");
  options.positional_help("CONTEXT -o OUT");
  options.add_options()
    ("context", "the build context directory", cxxopts::value<std::string>(), "CONTEXT")
    ("f,file", "the Dockerfile (default: CONTEXT/Dockerfile; - reads standard input)", cxxopts::value<std::string>(), "FILE")
    ("o,output", "OCI layout directory (new or empty), oci-archive or docker-archive file, or docker://REF (a push)",
     cxxopts::value<std::string>(), "OUT")
    ("build-arg", "set an ARG: K=V, or K to take the value from the environment; repeatable",
     cxxopts::value<std::vector<std::string>>(), "K=V")
    ("format", "output format", cxxopts::value<std::string>()->default_value("oci"), "oci|oci-archive|docker-archive")
    ("tag", "OCI: the reference recorded in the index as given (org.opencontainers.image.ref.name: --tag hello:1 is "
            "read as oci:OUT:hello:1, as skopeo records it); docker-archive: the RepoTags "
            "entry name[:tag]", cxxopts::value<std::string>(), "TAG")
    ("platform", "target platform (TARGETOS, TARGETARCH, ... for ARG; picks the base image of a multi-platform "
                 "index; a base image's own platform is the image's)",
     cxxopts::value<std::string>()->default_value("linux/amd64"), "OS/ARCH[/VARIANT]")
    ("compress", "compression of the new layers (a base image's are kept; a docker-archive's are uncompressed)",
     cxxopts::value<std::string>()->default_value("gzip"), "none|gzip|zstd")
    ("json", "print the identities as JSON");
  add_threads_option(options);
  add_policy_options(options);
  add_output_options(options);
  add_registry_options(options);
  add_source_options(options);
  add_push_options(options);
  options.parse_positional({"context"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("context") || !r.count("output")) {
    throw util::Error("build: want CONTEXT and -o OUT (see reproimg build --help)");
  }
  dockerfile::BuildOptions opts;
  image_output_from(r, opts);
  if (r.count("file")) {
    opts.dockerfile = r["file"].as<std::string>();
  }
  if (r.count("build-arg")) {
    for (const auto& a : r["build-arg"].as<std::vector<std::string>>()) {
      const auto eq = a.find('=');
      if (eq == 0 || a.empty()) {
        throw util::Error("--build-arg '" + util::printable(a) + "': want KEY=VALUE or KEY");
      }
      if (eq != std::string::npos) {
        opts.build_args[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (const char* v = std::getenv(a.c_str())) {
        opts.build_args[a] = v; // as docker build: a bare KEY takes the caller's environment
      }
    }
  }
  const Verbosity verbosity = verbosity_from(r);
  normalize::Report report;
  const ImageDestination destination(r, r["output"].as<std::string>(), opts.format);
  opts.staged_blob = destination.upload_hook();
  const auto result = dockerfile::build_image(r["context"].as<std::string>(), opts, destination.path(), report);
  print_warnings(report, verbosity);
  destination.push(r.count("json") > 0);
  if (r.count("json")) {
    image::Json layers = image::Json::array();
    for (const auto& l : result.layers) {
      layers.push_back({{"diff_id", l.diff_id}, {"digest", l.digest}, {"size", l.size}, {"created_by", l.created_by}});
    }
    // A docker-archive holds no registry manifest: its manifest_digest is null.
    const image::Json manifest = result.manifest_digest.empty() ? image::Json() : image::Json(result.manifest_digest);
    image::Json j = {{"manifest_digest", manifest}, {"config_digest", result.config_digest}, {"layers", layers}};
    std::printf("%s\n", j.dump(2).c_str());
  } else if (verbosity != Verbosity::quiet) {
    if (!result.manifest_digest.empty()) {
      std::printf("manifest  %s\n", result.manifest_digest.c_str());
    }
    std::printf("image ID  %s\n", result.config_digest.c_str());
    for (size_t i = 0; i < result.layers.size(); ++i) {
      const auto& l = result.layers[i];
      std::printf("layer %zu   %s  (diff_id %s, %llu bytes)\n", i + 1, l.digest.c_str(), l.diff_id.c_str(),
                  static_cast<unsigned long long>(l.size));
    }
  }
  return util::exit_code(util::ExitCode::ok);
}

} // namespace reproimg::cli
