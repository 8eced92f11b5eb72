// Registry reference parsing, with the grammar of the distribution project's reference package.
#include "registry/reference.hpp"

#include "digest/sha256.hpp"
#include "util/error.hpp"

#include <regex>

namespace reproimg::registry {

namespace {

const std::regex& path_component()
{
  static const std::regex re("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  return re;
}

const std::regex& tag_pattern()
{
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return re;
}

// A host: DNS labels or an IPv4 address or a bracketed IPv6 address, with an optional port.
const std::regex& host_pattern()
{
  static const std::regex re("(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                             ")*|\\[[0-9A-Fa-f:.]+\\])"
                             "(?::[0-9]{1,5})?");
  return re;
}

[[noreturn]] void bad(const std::string& spec, const std::string& why)
{
  throw util::Error(util::Location::of("docker://" + util::printable(spec)), "not a registry reference: " + why);
}

// Is the first component of a name a registry (Docker's rule: it holds a '.' or a ':', or is
// "localhost"), rather than the first path component of a Docker Hub repository?
bool names_registry(const std::string& first)
{
  return first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost" ||
         (!first.empty() && first[0] == '[');
}

void check_repository(const std::string& spec, const std::string& repository)
{
  if (repository.empty() || repository.size() > 255) {
    bad(spec, "the repository name is empty or longer than 255 characters");
  }
  size_t start = 0;
  while (true) {
    const size_t slash = repository.find('/', start);
    const std::string part = repository.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!std::regex_match(part, path_component())) {
      bad(spec, "repository component '" + util::printable(part) +
                    "' (lower-case letters, digits and single separators . _ __ - only)");
    }
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
}

} // namespace

bool is_registry_spec(const std::string& spec)
{
  return spec.rfind("docker://", 0) == 0;
}

Reference parse_reference(const std::string& spec_in)
{
  const std::string spec = is_registry_spec(spec_in) ? spec_in.substr(9) : spec_in;
  Reference ref;
  std::string rest = spec;
  if (const auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!digest::is_sha256_digest(ref.digest)) {
      bad(spec, "the digest '" + util::printable(ref.digest) + "' is not sha256:<64 lower-case hex>");
    }
  }
  const auto slash = rest.find('/');
  if (slash != std::string::npos && names_registry(rest.substr(0, slash))) {
    ref.registry = rest.substr(0, slash);
    rest = rest.substr(slash + 1);
    if (!std::regex_match(ref.registry, host_pattern())) {
      bad(spec, "the registry '" + util::printable(ref.registry) + "' is not HOST[:PORT]");
    }
  } else {
    ref.registry = "docker.io";
  }
  if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!std::regex_match(ref.tag, tag_pattern())) {
      bad(spec, "the tag '" + util::printable(ref.tag) + "' (letters, digits, _ . -, at most 128)");
    }
  }
  if (ref.registry == "index.docker.io" || ref.registry == "registry-1.docker.io") {
    ref.registry = "docker.io";
  }
  if (ref.registry == "docker.io" && rest.find('/') == std::string::npos) {
    rest = "library/" + rest;
  }
  check_repository(spec, rest);
  ref.repository = rest;
  if (ref.tag.empty() && ref.digest.empty()) {
    ref.tag = "latest";
  }
  return ref;
}

std::string Reference::name() const
{
  return registry + "/" + repository + (digest.empty() ? ":" + tag : "@" + digest);
}

std::string Reference::display() const
{
  return "docker://" + name();
}

std::string api_host(const std::string& registry)
{
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

} // namespace reproimg::registry
