// Dockerfile instructions applied to an image config.
#include "image/config_changes.hpp"

#include "util/error.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cctype>

namespace reproimg::image {

namespace {

// JSON form ["a", "b"] or shell form (wrapped in /bin/sh -c), as Docker does.
Json command_form(const std::string& value, const std::string& instruction)
{
  if (!value.empty() && value.front() == '[') {
    Json parsed;
    try {
      parsed = Json::parse(value);
    } catch (const std::exception&) {
      throw util::Error(instruction + ": not a JSON array of strings: " + util::printable(value));
    }
    if (!parsed.is_array() || !std::all_of(parsed.begin(), parsed.end(), [](const Json& j) { return j.is_string(); })) {
      throw util::Error(instruction + ": not a JSON array of strings: " + util::printable(value));
    }
    return parsed;
  }
  return Json::array({"/bin/sh", "-c", value});
}

// KEY=VALUE pairs, or the legacy "KEY VALUE" form.
std::vector<std::pair<std::string, std::string>> key_values(const std::string& value, const std::string& instruction)
{
  std::vector<std::pair<std::string, std::string>> out;
  const auto words = split_words(value);
  if (words.empty()) {
    throw util::Error(instruction + " needs at least one KEY=VALUE");
  }
  if (words[0].find('=') == std::string::npos) {
    const auto space = value.find_first_of(" \t");
    if (space == std::string::npos) {
      throw util::Error(instruction + " " + util::printable(value) + ": want KEY=VALUE or KEY VALUE");
    }
    out.emplace_back(words[0], util::trim(value.substr(space + 1)));
    return out;
  }
  for (const auto& w : words) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw util::Error(instruction + ": '" + util::printable(w) + "' is not KEY=VALUE");
    }
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

} // namespace

std::vector<std::string> split_words(const std::string& text)
{
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && quote != '\'') {
      cur += text[++i];
      in_word = true;
    } else if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (util::is_ascii_space(c)) {
      if (in_word) {
        words.push_back(cur);
        cur.clear();
        in_word = false;
      }
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote) {
    throw util::Error("unterminated quote in: " + util::printable(text));
  }
  if (in_word) {
    words.push_back(cur);
  }
  return words;
}

void apply_change(Json& config, const std::string& instruction)
{
  const std::string line = util::trim(instruction);
  const auto space = line.find_first_of(" \t");
  std::string keyword = line.substr(0, space);
  std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const std::string value = space == std::string::npos ? "" : util::trim(line.substr(space + 1));
  if (value.empty()) {
    throw util::Error("--change '" + util::printable(line) + "': " + keyword + " needs a value");
  }
  if (keyword == "CMD") {
    config["Cmd"] = command_form(value, keyword);
  } else if (keyword == "ENTRYPOINT") {
    config["Entrypoint"] = command_form(value, keyword);
  } else if (keyword == "ENV") {
    Json env = config.contains("Env") ? config["Env"] : Json::array();
    for (const auto& [k, v] : key_values(value, keyword)) {
      const std::string prefix = k + "=";
      auto it = std::find_if(env.begin(), env.end(),
                             [&](const Json& e) { return e.get<std::string>().rfind(prefix, 0) == 0; });
      if (it != env.end()) {
        *it = prefix + v;
      } else {
        env.push_back(prefix + v);
      }
    }
    config["Env"] = env;
  } else if (keyword == "LABEL") {
    for (const auto& [k, v] : key_values(value, keyword)) {
      config["Labels"][k] = v;
    }
  } else if (keyword == "EXPOSE") {
    for (auto port : split_words(value)) {
      if (port.find('/') == std::string::npos) {
        port += "/tcp";
      }
      config["ExposedPorts"][port] = Json::object();
    }
  } else if (keyword == "VOLUME") {
    const Json paths = value.front() == '[' ? command_form(value, keyword) : Json(split_words(value));
    for (const auto& p : paths) {
      config["Volumes"][p.get<std::string>()] = Json::object();
    }
  } else if (keyword == "WORKDIR") {
    std::string dir = value;
    if (dir.front() != '/' && config.contains("WorkingDir")) {
      dir = config["WorkingDir"].get<std::string>() + "/" + dir;
    }
    config["WorkingDir"] = dir;
  } else if (keyword == "USER") {
    config["User"] = value;
  } else if (keyword == "STOPSIGNAL") {
    config["StopSignal"] = value;
  } else if (keyword == "ONBUILD") {
    config["OnBuild"].push_back(value);
  } else {
    throw util::Error("--change '" + util::printable(line) + "': " + util::printable(keyword) +
                      " is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR");
  }
}

} // namespace reproimg::image
