// The audit's checks on models built here: dive's waste figures on small layer stacks, what later
// layers hide (and a hidden secret's severity), accounts and config, embedded build times (diff's
// explainers), and the policy file's refusals naming the line.
#include "diff/content_detail.hpp"
#include "util/error.hpp"
#include "verify/audit_accounts.hpp"
#include "verify/audit_layers.hpp"
#include "verify/audit_policy.hpp"

#include "tests/support.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>

using namespace reproimg;
using namespace reproimg::verify;

namespace {

AuditEntry file(const std::string& path, std::uint64_t size, std::uint32_t mode = 0644)
{
  AuditEntry e;
  e.path = path;
  e.size = size;
  e.mode = mode;
  return e;
}

AuditEntry dir(const std::string& path)
{
  AuditEntry e;
  e.path = path;
  e.type = readers::EntryType::directory;
  e.mode = 0755;
  return e;
}

AuditEntry whiteout(const std::string& path)
{
  AuditEntry e = file(path, 0);
  e.whiteout = true;
  return e;
}

LayerData layer(int number, std::vector<AuditEntry> entries)
{
  LayerData l;
  l.number = number;
  l.entries = std::move(entries);
  for (const auto& e : l.entries) l.tar_bytes += e.size;
  return l;
}

std::vector<Finding> of_check(const std::vector<Finding>& all, const std::string& check)
{
  std::vector<Finding> out;
  for (const auto& f : all) {
    if (f.check == check) out.push_back(f);
  }
  return out;
}

std::string write(const test::TempDir& tmp, const std::string& name, const std::string& text)
{
  std::ofstream(tmp.file(name)) << text;
  return tmp.file(name);
}

} // namespace

BOOST_AUTO_TEST_SUITE(audit)

BOOST_AUTO_TEST_CASE(waste_counts_as_dive_counts)
{
  // a: 100 bytes, overwritten by 50, then deleted (a whiteout of a file adds nothing);
  // b: 1000 bytes once; d/ with 7+3 bytes deleted as a directory (counted once: not wasted).
  const std::vector<LayerData> layers = {
      layer(0, {file("a", 100), file("b", 1000), dir("d"), file("d/x", 7), file("d/y", 3)}),
      layer(1, {file("a", 50)}),
      layer(2, {whiteout(".wh.a"), whiteout(".wh.d")}),
  };
  const Waste w = measure_waste(layers);
  BOOST_TEST(w.wasted_bytes == 150u);
  BOOST_TEST(w.size_bytes == 1160u);
  BOOST_TEST(w.user_size_bytes == 50u);
  // min over paths: a 0, b 1000, d/x 7, d/y 3, d 10 (its whiteout: the directory's bytes);
  // totals: a 150, b 1000, d/x 7, d/y 3, d 10.
  BOOST_TEST(w.efficiency == 1020.0 / 1170.0);
  BOOST_REQUIRE_EQUAL(w.inefficiencies.size(), 1u);
  BOOST_TEST(w.inefficiencies[0].path == "a");
  BOOST_TEST(w.inefficiencies[0].count == 3u);
}

BOOST_AUTO_TEST_CASE(one_layer_wastes_nothing)
{
  const Waste w = measure_waste({layer(0, {file("a", 5), dir("e")})});
  BOOST_TEST(w.wasted_bytes == 0u);
  BOOST_TEST(w.efficiency == 1.0);
  std::vector<Finding> out;
  check_waste(w, out);
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(hidden_files_name_their_layers)
{
  LayerData l0 = layer(0, {dir("root"), dir("root/.ssh"), file("root/.ssh/id_rsa", 411, 0600), file("etc/motd", 9)});
  l0.secret_paths["root/.ssh/id_rsa"] = "private-key";
  const std::vector<LayerData> layers = {l0, layer(1, {file("etc/motd", 10)}),
                                         layer(2, {whiteout("root/.ssh/.wh.id_rsa")})};
  std::vector<Finding> out;
  check_hidden(layers, out);
  BOOST_REQUIRE_EQUAL(out.size(), 2u);
  const auto key =
      std::find_if(out.begin(), out.end(), [](const Finding& f) { return f.paths[0] == "root/.ssh/id_rsa"; });
  BOOST_REQUIRE(key != out.end());
  BOOST_TEST(*key->layer == 0);
  BOOST_TEST(key->attributes["hidden_by_layer"].get<int>() == 2);
  BOOST_TEST(key->attributes["size"].get<int>() == 411);
  BOOST_TEST(key->attributes["secret"].get<bool>());
  // The policy's severities: a hidden secret takes private-key's (high) over the check's (low).
  std::vector<Finding> applied = out;
  apply_policy(AuditPolicy{}, applied);
  for (const auto& f : applied) {
    BOOST_TEST((f.severity == (f.paths[0] == "root/.ssh/id_rsa" ? Severity::high : Severity::low)));
  }
}

BOOST_AUTO_TEST_CASE(a_hardlink_keeps_deleted_data_visible)
{
  AuditEntry link;
  link.path = "b";
  link.type = readers::EntryType::hardlink;
  link.link_target = "a";
  const std::vector<LayerData> layers = {layer(0, {file("a", 10), link}), layer(1, {whiteout(".wh.a")})};
  std::vector<Finding> out;
  check_hidden(layers, out);
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(accounts_and_owners)
{
  AccountFiles files;
  files.passwd = "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
  files.group = "root:x:0:\nnogroup:x:65534:\n";
  files.shadow = "root:*:19000:0:99999:7:::\nnobody::19000:0:99999:7:::\n";
  files.passwd_layer = 0;
  files.shadow_layer = 0;
  std::vector<Finding> out;
  check_accounts(files, 1700000000, out);
  BOOST_TEST(of_check(out, "duplicate-id").size() == 1u);
  BOOST_TEST(of_check(out, "empty-password").size() == 1u);
  BOOST_TEST(of_check(out, "empty-password")[0].reason.find("nobody") != std::string::npos);
  BOOST_TEST(of_check(out, "volatile-file").size() == 1u); // 19000 is not day 19675
  AuditEntry stray = file("opt/x", 1);
  stray.uid = 4242;
  std::vector<std::string> notes;
  out.clear();
  check_owners(files, {layer(0, {file("etc/passwd", 1), stray})}, out, notes);
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].paths[0] == "opt/x");
  BOOST_TEST(out[0].attributes["uid"].get<int>() == 4242);
}

BOOST_AUTO_TEST_CASE(config_secrets_and_user)
{
  const nlohmann::json config = {
      {"config", {{"Env", {"PATH=/bin", "DB_PASSWORD=hunter2", "GITHUB_TOKEN_FILE=/run/t"}}}}};
  std::vector<Finding> out;
  check_config(config, out);
  BOOST_REQUIRE_EQUAL(of_check(out, "secret-env").size(), 1u);
  const Finding env = of_check(out, "secret-env")[0];
  BOOST_TEST(env.reason.find("hunter2") == std::string::npos); // never printed
  BOOST_TEST(of_check(out, "root-user").size() == 1u);
  out.clear();
  check_config({{"config", {{"User", "1000:1000"}}}}, out);
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(times_spread_over_a_build)
{
  AuditEntry a = file("usr/bin/a", 1);
  a.mtime = 1700000000;
  AuditEntry b = file("usr/bin/b", 1);
  b.mtime = 1700000090; // 90 s later: the build's clock
  AuditEntry old = file("usr/lib/c", 1);
  old.mtime = 1600000000; // a package's time, outside the build window
  const nlohmann::json config = {{"created", "2024-01-01T00:00:00Z"},
                                 {"history", {{{"created", "2023-11-14T22:14:50Z"}}}}};
  std::vector<Finding> out;
  check_times(config, {layer(0, {a, b, old})}, 86400, out);
  // The spread in layer 0, and created more than a day after the newest mtime (history is not).
  BOOST_REQUIRE_EQUAL(out.size(), 2u);
  BOOST_TEST(out[0].attributes["distinct_mtimes"].get<int>() == 2);
  BOOST_TEST(out[0].attributes["entries"].get<int>() == 2);
  BOOST_TEST(out[1].paths[0] == "config:/created");
  // Clamped: one value; nothing said.
  b.mtime = a.mtime;
  out.clear();
  check_times({{"created", "2023-11-14T22:13:20Z"}}, {layer(0, {a, b, old})}, 86400, out);
  BOOST_TEST(out.empty());
  BOOST_TEST(*parse_rfc3339("2023-11-14T23:13:20.5+01:00") == 1700000000);
}

BOOST_AUTO_TEST_CASE(embedded_times)
{
  std::string gz = std::string("\x1f\x8b\x08\x00", 4) + std::string("\x00\xf1\x53\x65", 4) +
                   std::string("\x00\x03", 2) + std::string(10, '\0');
  const auto t = diff::embedded_time("x.gz", gz, false, 0);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->format == "gzip");
  BOOST_TEST(t->time == 0x6553f100);
  BOOST_TEST(!diff::embedded_time("x.gz", gz, false, 0x6553f100).has_value()); // clamped to E
  std::string pyc = std::string("\xa7\x0d\x0d\x0a", 4) + std::string(4, '\0') + std::string("\x10\x00\x00\x00", 4) +
                    std::string(8, '\0');
  BOOST_TEST(diff::embedded_time("m.pyc", pyc, false, 0)->field == "pyc.source_mtime");
  // An ar member whose size runs past the end (or would wrap the offset around) is not an ar.
  const std::string ar = "!<arch>\n" + std::string("a/              1700000000  0     0     100644  ") +
                         "18446744073709551600`\n";
  BOOST_TEST(!diff::embedded_time("x.a", ar, true, 0).has_value());
  pyc[4] = 1; // PEP 552 hash-based
  BOOST_TEST(!diff::embedded_time("m.pyc", pyc, false, 0).has_value());
}

BOOST_AUTO_TEST_CASE(policy_allows_with_reasons_and_refuses_by_line)
{
  test::TempDir tmp;
  const std::string good =
      write(tmp, "good.yaml",
            "version: 1\nfail-on: medium\nseverities:\n  wasted-space: info\nallow:\n"
            "  - check: setuid\n    paths: [usr/bin/passwd]\n    reason: users change their own password\n");
  const AuditPolicy p = read_audit_policy(good);
  BOOST_TEST((p.fail_on == Severity::medium));
  BOOST_TEST((p.severities.at("wasted-space") == Severity::info));
  std::vector<Finding> fs = {make_finding("setuid", 0, {"usr/bin/passwd"}, "setuid"),
                             make_finding("setuid", 0, {"usr/bin/su"}, "setuid")};
  apply_policy(p, fs);
  BOOST_REQUIRE(fs[0].allowed.has_value());
  BOOST_TEST(fs[0].allowed->reason == "users change their own password");
  BOOST_TEST(fs[0].allowed->where == good + ":6");
  BOOST_TEST(!fs[1].allowed.has_value());

  const auto refused = [&](const std::string& text, const std::string& want) {
    const std::string path = write(tmp, "bad.yaml", text);
    try {
      read_audit_policy(path);
      BOOST_ERROR("accepted: " + text);
    } catch (const util::Error& e) {
      BOOST_TEST(std::string(e.what()).find(want) != std::string::npos, e.what() << " lacks " << want);
      BOOST_TEST(util::exit_code(e.code()) == 2);
    }
  };
  refused("allow:\n  - check: setuid\n    path: usr/bin/passwd\n", "bad.yaml:2");
  refused("allow:\n  - check: setuid\n    reason: '  '\n", "no reason");
  refused("version: 1\nseverity:\n  setuid: low\n", "bad.yaml:2");
  refused("severities:\n  no-such-check: low\n", "unknown check");
  refused("severities:\n  setuid: severe\n", "unknown severity");
  refused("allow: [\n", "not YAML");
}

BOOST_AUTO_TEST_SUITE_END()
