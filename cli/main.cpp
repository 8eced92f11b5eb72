// reproimg: the command-line entry point; dispatches to a subcommand from one table.
#include "cli/commands.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cxxopts.hpp>
#include <string>

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command k_commands[] = {
    {"normalize", reproimg::cli::cmd_normalize, "rewrite a tar stream or rootfs into the canonical layer"},
    {"digest", reproimg::cli::cmd_digest, "print a layer's blob digest, diff_id and canonical diff_id"},
    {"import", reproimg::cli::cmd_import, "turn a rootfs into a one-layer OCI image, reproducibly"},
    {"build", reproimg::cli::cmd_build, "build a Dockerfile FROM scratch or a local image (ADD, COPY, CMD, ...) without a daemon"},
    {"diff", reproimg::cli::cmd_diff, "compare two images, layers or trees and explain every difference"},
    {"demo", reproimg::cli::cmd_demo, "show two naive packings of one tree normalising to one layer"},
};

void usage(FILE* out)
{
  std::fprintf(out, "usage: reproimg COMMAND [OPTIONS] ...\n\n"
                    "Make container base images bit-for-bit reproducible, and prove it.\n\ncommands:\n");
  for (const auto& c : k_commands) {
    std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  }
  std::fprintf(out, "\n'reproimg COMMAND --help' shows a command's options and examples.\n"
                    "exit codes: 0 ok/identical, 1 differs, 2 usage error or bad input, 130 interrupted\n");
}

} // namespace

int main(int argc, char** argv)
{
  // Names are handled as raw bytes; a fixed UTF-8 character type makes libarchive's pax UTF-8
  // handling independent of the caller's locale (LC_ALL=C and C.UTF-8 give the same bytes).
  if (!std::setlocale(LC_CTYPE, "C.UTF-8")) {
    std::setlocale(LC_CTYPE, "C.utf8");
  }
  // Before any other thread: they all inherit the blocked interrupt signals.
  reproimg::util::start_interrupt_handler();
  std::signal(SIGPIPE, SIG_IGN);

  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("reproimg 0.1.0\n");
    return 0;
  }
  for (const auto& c : k_commands) {
    if (std::strcmp(argv[1], c.name) == 0) {
      try {
        return c.run(argc - 1, argv + 1);
      } catch (const reproimg::util::Error& e) {
        std::fprintf(stderr, "reproimg: error: %s\n", e.what());
        return static_cast<int>(e.code());
      } catch (const cxxopts::exceptions::exception& e) {
        std::fprintf(stderr, "reproimg: error: %s: %s (see reproimg %s --help)\n", c.name, e.what(), c.name);
        return 2;
      } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "reproimg: error: out of memory\n");
        return 2;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "reproimg: error: %s\n", e.what());
        return 2;
      }
    }
  }
  std::fprintf(stderr, "reproimg: error: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
