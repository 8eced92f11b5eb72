// reproimg: the command-line entry point; dispatches to a subcommand from one table.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "normalize/known_answer.hpp"
#include "registry/cache.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <cerrno>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cxxopts.hpp>
#include <algorithm>
#include <string>
#include <vector>

namespace {

using reproimg::util::exit_code;
using reproimg::util::ExitCode;

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
    {"copy", reproimg::cli::cmd_copy, "copy an image as it is (oci:, archives, docker://), every blob checked, its digests kept"},
    {"diff", reproimg::cli::cmd_diff, "compare two images, layers or trees and explain every difference"},
    {"lock", reproimg::cli::cmd_lock, "record an image's identities and files in a lock, to verify a rebuild against"},
    {"verify", reproimg::cli::cmd_verify, "check a rebuild against a lock (bit, canonical, files) and explain a mismatch"},
    {"audit", reproimg::cli::cmd_audit, "audit an image: hazards a careful team would not ship, and how far from reproducible"},
    {"rebuild", reproimg::cli::cmd_rebuild, "run a build twice under varied conditions and name the variation behind each difference"},
    {"cache", reproimg::cli::cmd_cache, "prune or clear the blob cache of docker:// pulls"},
    {"demo", reproimg::cli::cmd_demo, "show two naive packings of one tree normalising to one layer"},
};

void usage(FILE* out)
{
  std::fprintf(out, "usage: reproimg COMMAND [OPTIONS] ...\n\n"
                    "Make container base images bit-for-bit reproducible, and prove it.\n\ncommands:\n");
  for (const auto& c : k_commands) {
    std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  }
  std::fprintf(out, "\n'reproimg COMMAND --help' (or 'reproimg help COMMAND') shows a command's options and examples.\n"
                    "exit codes: 0 ok/identical, 1 differs, 2 usage error or bad input, 130 interrupted\n");
}

// The command a mistyped name most likely meant (normalise, digets, imprt): one within two edits.
const Command* nearest_command(const std::string& typed)
{
  const Command* best = nullptr;
  size_t best_distance = 3;
  for (const auto& c : k_commands) {
    const std::string name = c.name;
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(name.size() + 1);
    for (size_t j = 0; j <= name.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= typed.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= name.size(); ++j) {
        const size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (typed[i - 1] == name[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    if (typed.size() >= 3 && name.rfind(typed, 0) == 0) {
      return &c; // a prefix: "norm", "dig"
    }
    if (row[name.size()] < best_distance) {
      best_distance = row[name.size()];
      best = &c;
    }
  }
  return best;
}

const Command* find_command(const char* name)
{
  for (const auto& c : k_commands) {
    if (std::strcmp(name, c.name) == 0) {
      return &c;
    }
  }
  return nullptr;
}

// "unknown command 'normalise'; did you mean 'normalize'?" and the list of commands.
int unknown_command(const char* typed)
{
  const std::string prefix = reproimg::cli::message_prefix("error");
  if (const Command* near = nearest_command(typed)) {
    std::fprintf(stderr, "%sunknown command '%s'; did you mean '%s'?\n\n", prefix.c_str(),
                 reproimg::util::printable(typed).c_str(), near->name);
  } else {
    std::fprintf(stderr, "%sunknown command '%s'\n\n", prefix.c_str(), reproimg::util::printable(typed).c_str());
  }
  usage(stderr);
  return exit_code(ExitCode::bad_input);
}

int run_command(const Command& c, int argc, char** argv)
{
  // The prefix is taken when the error is printed: the command's --color decides it.
  using reproimg::cli::message_prefix;
  // Once the command is done, whatever its outcome: the blob cache pruned to its bound when this
  // run added to it.
  struct EvictAfterRun {
    ~EvictAfterRun() { reproimg::registry::evict_cache_after_run(); }
  } evict;
  const reproimg::util::InputGuard inputs; // no output of the command replaces a file it read
  try {
    const int rc = c.run(argc, argv);
    // What was printed must have reached its destination (a full disk, a closed pipe): a
    // digest that was never written is not a success.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      const int err = errno;
      std::fprintf(stderr, "%scannot write to standard output: %s\n", message_prefix("error").c_str(),
                   std::strerror(err));
      return exit_code(ExitCode::bad_input);
    }
    return rc;
  } catch (const reproimg::util::Error& e) {
    std::fprintf(stderr, "%s%s\n", message_prefix("error").c_str(), e.what());
    return exit_code(e.code());
  } catch (const cxxopts::exceptions::exception& e) {
    std::fprintf(stderr, "%s%s: %s (see reproimg %s --help)\n", message_prefix("error").c_str(), c.name,
                 e.what(), c.name);
    return exit_code(ExitCode::bad_input);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%sout of memory\n", message_prefix("error").c_str());
    return exit_code(ExitCode::bad_input);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s%s\n", message_prefix("error").c_str(), e.what());
    return exit_code(ExitCode::bad_input);
  }
}

// reproimg help [COMMAND]: the top-level usage, or the command's own help.
// The version, the canonical layer it writes, and each compressor with its known-answer check.
void print_version()
{
  std::printf("reproimg %s (canonical layer, version 2)\n", REPROIMG_VERSION);
  for (const auto c : {reproimg::normalize::Compression::gzip, reproimg::normalize::Compression::zstd}) {
    std::printf("%s: %s\n", reproimg::normalize::compression_name(c),
                reproimg::normalize::known_answer_summary(c).c_str());
  }
}

int help(int argc, char** argv)
{
  if (argc < 3) {
    usage(stdout);
    return exit_code(ExitCode::ok);
  }
  if (argc > 3) {
    std::fprintf(stderr, "%shelp: unexpected argument '%s' (reproimg help COMMAND)\n",
                 reproimg::cli::message_prefix("error").c_str(), reproimg::util::printable(argv[3]).c_str());
    return exit_code(ExitCode::bad_input);
  }
  const Command* c = find_command(argv[2]);
  if (!c) {
    return unknown_command(argv[2]);
  }
  char help_flag[] = "--help";
  char* args[] = {argv[2], help_flag, nullptr};
  return run_command(*c, 2, args);
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

  if (argc < 2) {
    usage(stderr);
    return exit_code(ExitCode::bad_input);
  }
  if (std::strcmp(argv[1], "help") == 0) {
    return help(argc, argv);
  }
  if (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return exit_code(ExitCode::ok);
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    print_version();
    return exit_code(ExitCode::ok);
  }
  if (const Command* c = find_command(argv[1])) {
    return run_command(*c, argc - 1, argv + 1);
  }
  return unknown_command(argv[1]);
}
