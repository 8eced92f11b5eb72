// reproimg lock: record what an image is (identities, canonical diff_ids, files) in a lock file.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "util/error.hpp"
#include "verify/lock.hpp"
#include "verify/make_lock.hpp"

#include <cstdio>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # Lock the image a release ships (every platform of an index), policy recorded with it:
  SOURCE_DATE_EPOCH=1700000000 reproimg lock oci:./base-oci:1 -o base.lock
  # The canonical diff_ids under the debian profile, no file list (a smaller lock):
  reproimg lock --profile debian --no-files oci-archive:base.tar -o base.lock
  # A rootfs directory or a layer tar:
  reproimg lock dir:./rootfs -o rootfs.lock
  # Then, in the release pipeline, after the rebuild:
  reproimg verify oci:./rebuilt:1 --lock base.lock --level canonical
)";

} // namespace

int cmd_lock(int argc, char** argv)
{
  cxxopts::Options options("reproimg lock",
                           "Write a lock (JSON, schema reproimg-lock/1, docs/lock.md) recording IMAGE: manifest and\n"
                           "config digests, platform, created, per layer its blob, diff_id, ChainID and canonical\n"
                           "diff_id under the policy options below (recorded with it), and the flattened filesystem.\n"
                           "Its bytes depend on the image and the policy only. Every blob is checked as it is read.");
  options.positional_help("IMAGE -o FILE");
  options.add_options()
    ("image", "oci:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE[:name:tag], docker://REF, dir:PATH (skopeo's directory transport, or a rootfs), or a layer tar", cxxopts::value<std::string>(), "IMAGE")
    ("o,output", "the lock file to write (atomically); - for stdout", cxxopts::value<std::string>(), "FILE")
    ("no-files", "leave out the file list (then verify has the bit and canonical levels only)")
    ("platform", "an index: lock this platform only (default: every one)", cxxopts::value<std::string>(), "OS/ARCH[/VARIANT]");
  add_policy_options(options);
  add_output_options(options);
  add_registry_options(options);
  options.parse_positional({"image"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("image") || !r.count("output")) {
    throw util::Error("lock: want IMAGE and -o FILE (see reproimg lock --help)");
  }
  verify::LockOptions opts;
  opts.policy = policy_from(r);
  opts.files = r.count("no-files") ? verify::FileList::skipped : verify::FileList::read;
  if (r.count("platform")) {
    opts.platform = image::parse_platform(r["platform"].as<std::string>());
  }
  opts.progress = progress_from(r);
  const std::string path = r["output"].as<std::string>();
  if (path != "-") {
    util::check_output_file(path);
  }
  const std::string text = verify::lock_to_json(verify::make_lock(r["image"].as<std::string>(), opts));
  OutputTarget out(path, false);
  out.sink().write(text);
  out.commit();
  return 0;
}

} // namespace reproimg::cli
