// reproimg cache: the shared blob cache of docker:// pulls; prune it to a size, or empty it.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "registry/cache.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <string>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # Keep at most 2 GiB, least recently used blobs removed first:
  reproimg cache prune --max-size 2G
  # Down to $REPROIMG_CACHE_MAX (default 10G), as every pull that added blobs does when it ends:
  reproimg cache prune
  # Empty it:
  reproimg cache clear
)";

} // namespace

int cmd_cache(int argc, char** argv)
{
  cxxopts::Options options("reproimg cache",
                           "The blob cache of docker:// pulls ($XDG_CACHE_HOME/reproimg, else ~/.cache/reproimg).\n"
                           "prune: remove the least recently used blobs until it holds at most --max-size;\n"
                           "clear: remove every blob. Either refuses (exit 2) while another reproimg run uses it.");
  options.positional_help("prune [--max-size SIZE] | clear");
  options.add_options()("action", "prune or clear", cxxopts::value<std::string>(), "ACTION")(
      "max-size", "prune: the bound (bytes, or with K, M, G, T); default $REPROIMG_CACHE_MAX, else 10G",
      cxxopts::value<std::string>(), "SIZE");
  add_output_options(options);
  options.parse_positional({"action"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  const std::string action = r.count("action") ? r["action"].as<std::string>() : "";
  if (action != "prune" && action != "clear") {
    throw util::Error("cache: want prune or clear (see reproimg cache --help)");
  }
  if (action == "clear" && r.count("max-size")) {
    throw util::Error("cache: --max-size is for prune (clear removes every blob)");
  }
  const std::uint64_t max = action == "clear"     ? 0
                            : r.count("max-size") ? registry::parse_size(r["max-size"].as<std::string>(), "--max-size")
                                                  : registry::cache_max_bytes();
  registry::BlobCache cache(registry::default_cache_dir());
  const registry::PruneResult p = cache.prune(max);
  if (r.count("quiet")) return util::exit_code(util::ExitCode::ok);
  std::printf("removed %llu blobs (%llu bytes); the cache holds %llu blobs (%llu bytes)\n",
              static_cast<unsigned long long>(p.removed_blobs), static_cast<unsigned long long>(p.removed_bytes),
              static_cast<unsigned long long>(p.kept_blobs), static_cast<unsigned long long>(p.kept_bytes));
  return util::exit_code(util::ExitCode::ok);
}

} // namespace reproimg::cli
