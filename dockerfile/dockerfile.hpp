// Dockerfiles: the parser, Docker's variable substitution and the build plan (what each
// instruction means once ARG and ENV are substituted), all before any file is read.
#pragma once

#include "image/json.hpp"
#include "image/oci_layout.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reproimg::dockerfile {

// One instruction as written, continuation lines joined and comments dropped.
struct DockerfileInstruction {
  int line = 0;                   // where it starts, 1-based
  std::string keyword;            // upper case: "COPY"
  std::vector<std::string> flags; // leading "--name=value" words, quotes removed, not substituted
  std::string args;               // the rest, trimmed, not substituted
  std::string text;               // flags and args as written (for history and messages)
};

struct Dockerfile {
  std::string name; // for messages: "Dockerfile:12: COPY: ..."
  char escape = '\\';
  std::vector<DockerfileInstruction> instructions;
};

// Parses the syntax only: parser directives (`# escape=` is honoured, `# syntax=` and `# check=`
// are ignored), comments, line continuations. Meaning is checked by plan_build.
Dockerfile parse_dockerfile(std::string_view text, const std::string& name);

// name -> value; a declared ARG without a value is absent (unset).
using Variables = std::map<std::string, std::string>;

// Docker's word processing for the instructions it substitutes (ADD, COPY, ENV, EXPOSE, FROM,
// LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults): '...' is literal, "..." substitutes,
// the escape character escapes, and $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word},
// ${VAR+word}, ${VAR:?message}, ${VAR?message} are substituted. White space is kept.
// Throws util::Error on bad syntax (unterminated quote, bad substitution, :? on an unset name).
std::string expand_word(std::string_view word, const Variables& vars, char escape = '\\');
// The same, split into words at unquoted white space (also white space a substitution produced).
std::vector<std::string> expand_words(std::string_view text, const Variables& vars, char escape = '\\');

// PATH of an image built `FROM scratch`, as BuildKit sets it.
inline constexpr const char* k_default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

enum class StepKind {
  arg, env, label, cmd, entrypoint, copy, workdir, user, expose, volume, stopsignal, onbuild, healthcheck,
  shell, maintainer,
};

// One instruction of the plan, substituted and checked.
struct BuildStep {
  StepKind kind = StepKind::arg;
  int line = 0;
  std::string keyword; // "COPY", "ADD", "ENV", ...
  std::string history; // the instruction as the image history records it (config steps)
  // ENV and LABEL: key, value.
  std::vector<std::pair<std::string, std::string>> pairs;
  // CMD, ENTRYPOINT: the argv (a shell form already wrapped in SHELL); SHELL: the shell;
  // EXPOSE: "80/tcp" ...; VOLUME: paths; COPY/ADD: the sources, relative to the context.
  std::vector<std::string> words;
  // WORKDIR and COPY/ADD: an absolute, clean destination; USER, STOPSIGNAL, ONBUILD, MAINTAINER.
  std::string value;
  bool dest_is_dir = false; // COPY/ADD: the destination ends in '/' (or is "." ...)
  bool add = false;         // ADD (local archives are extracted)
  std::optional<std::pair<std::int64_t, std::int64_t>> chown; // --chown=UID[:GID]
  std::optional<std::uint32_t> chmod;                         // --chmod=OCTAL
  image::Json healthcheck;         // HEALTHCHECK: the config's Healthcheck object
};

// Reads the image FROM names (anything but scratch) and returns its config (the whole config
// document, os and architecture included). platform is FROM --platform when platform_given, else
// the target (it picks one image of a multi-platform index). Throws util::Error.
using BaseImageLoader =
    std::function<image::Json(const std::string& image, const image::Platform& platform, bool platform_given)>;

struct PlanOptions {
  std::map<std::string, std::string> build_args; // --build-arg K=V
  image::Platform platform;                             // the target: TARGETOS, TARGETARCH, ...
  BaseImageLoader load_base;                     // unset: only FROM scratch
};

struct BuildPlan {
  image::Platform platform;      // the target, FROM --platform, or the base image's
  std::string stage_name; // FROM ... AS name
  std::string base;       // the image FROM names, substituted; empty: scratch
  int from_line = 0;      // the line of FROM
  image::Json base_config;       // its config, as load_base returned it
  std::vector<BuildStep> steps;
  std::vector<std::string> warnings; // build args no ARG consumed, ...
};

// Checks and substitutes every instruction. Throws util::Error naming the Dockerfile line
// ("Dockerfile:3: RUN: ...") for what this builder cannot do (RUN, remote ADD, a second stage,
// COPY --from, --chown by name) and for malformed instructions. FROM an image calls
// options.load_base: the stage starts with the image's Env, WorkingDir and Shell (for
// substitution and relative paths), and its ONBUILD triggers run right after FROM, as in Docker.
BuildPlan plan_build(const Dockerfile& dockerfile, const PlanOptions& options);

// Go's time.ParseDuration ("1m30s", "500ms") in nanoseconds; nullopt if malformed.
std::optional<std::int64_t> parse_go_duration(std::string_view text);

} // namespace reproimg::dockerfile
