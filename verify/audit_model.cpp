// The catalog of audit checks: what each looks for, its default severity and its fix.
#include "verify/audit_model.hpp"

namespace reproimg::verify {

const std::vector<CheckSpec>& audit_checks()
{
  static const std::vector<CheckSpec> k_checks = {
      {"not-canonical", "reproducibility", Severity::low,
       "a layer's diff_id differs from its canonical diff_id (what normalize would change, by diff's causes)",
       "build the layer with `reproimg normalize` (or import/build), or clamp mtimes, clear owner names and sort "
       "entries"},
      {"mtime-spread", "reproducibility", Severity::low,
       "mtimes spread over the build instead of clamped to one SOURCE_DATE_EPOCH, or config times that disagree with "
       "them",
       "set SOURCE_DATE_EPOCH and clamp every mtime and the config's created/history times to it"},
      {"embedded-timestamp", "reproducibility", Severity::low,
       "contents that carry a build time: gzip headers, zip/jar entry times, timestamp-based .pyc, ar members",
       "gzip -n, strip-nondeterminism for zip/jar/ar, SOURCE_DATE_EPOCH with py_compile's checked-hash mode"},
      {"volatile-file", "reproducibility", Severity::low,
       "files that record when and where the image was built (apt lists, logs, caches, machine-id, ssh host keys, "
       "hostname, resolv.conf, shadow change days)",
       "normalize with --profile debian, or remove the files in the build's last step"},
      {"setuid", "hygiene", Severity::medium, "setuid or setgid files",
       "chmod u-s,g-s the files the image does not need (allow the rest in the policy)"},
      {"world-writable", "hygiene", Severity::medium,
       "files anyone may write, and directories anyone may write without the sticky bit",
       "chmod o-w (or +t on a shared directory)"},
      {"device-node", "hygiene", Severity::medium, "character or block devices outside dev/",
       "remove the device: the runtime makes the ones a container needs"},
      {"unknown-owner", "hygiene", Severity::low,
       "files owned by uids or gids the image's own etc/passwd or etc/group do not define",
       "chown the files to an account the image defines (or add the account)"},
      {"duplicate-id", "hygiene", Severity::medium, "two accounts with one uid, or two groups with one gid",
       "give each account and group an id of its own"},
      {"empty-password", "hygiene", Severity::high, "an account whose etc/shadow password is empty (login without one)",
       "lock the account: `passwd -l NAME` (a '!' or '*' in etc/shadow)"},
      {"private-key", "hygiene", Severity::high,
       "PEM private keys, ssh keys, cloud credential files, .git directories, .npmrc/.pypirc tokens",
       "remove the secret from the build (a build secret or a runtime mount), in the layer that adds it, and rotate "
       "it"},
      {"secret-env", "hygiene", Severity::high, "config Env values whose names look like credentials",
       "pass the secret at run time, never as ENV in the image"},
      {"root-user", "hygiene", Severity::medium, "the config sets no User (or User root/0): containers run as root",
       "USER an unprivileged account"},
      {"hidden-by-later-layer", "hygiene", Severity::low,
       "a file that a later layer deletes or overwrites, still readable in the earlier layer's blob (high for a "
       "secret)",
       "do not add the file in the first place (one RUN that adds and removes it, a multi-stage build, or normalize)"},
      {"wasted-space", "hygiene", Severity::low,
       "bytes that later layers overwrite or delete, and the image's efficiency, as dive counts them",
       "remove files in the layer that adds them, squash, or rebuild with fewer layers"},
  };
  return k_checks;
}

const CheckSpec* find_check(const std::string& id)
{
  for (const auto& c : audit_checks()) {
    if (id == c.id) return &c;
  }
  return nullptr;
}

Finding make_finding(const std::string& check, std::optional<int> layer, std::vector<std::string> paths,
                     std::string reason)
{
  const CheckSpec* spec = find_check(check);
  Finding f;
  f.check = check;
  f.severity = spec ? spec->severity : Severity::low;
  f.fix = spec ? spec->fix : "";
  f.layer = layer;
  f.paths = std::move(paths);
  f.reason = std::move(reason);
  return f;
}

} // namespace reproimg::verify
