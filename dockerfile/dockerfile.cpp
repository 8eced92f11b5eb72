// Dockerfile parsing, substitution and planning, following BuildKit's Dockerfile frontend.
#include "dockerfile/dockerfile.hpp"

#include "dockerfile/dockerignore.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <set>

namespace reproimg::dockerfile {

namespace {

using util::is_ascii_space;
using util::ltrim;
using util::trim;

std::string upper(std::string s)
{
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string lower(std::string s)
{
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "# name=value" before the first instruction, comment or blank line.
std::optional<std::pair<std::string, std::string>> parse_directive(std::string_view line)
{
  if (line.empty() || line[0] != '#') {
    return std::nullopt;
  }
  size_t i = 1;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  const size_t name_start = i;
  if (i >= line.size() || !std::isalpha(static_cast<unsigned char>(line[i]))) {
    return std::nullopt;
  }
  while (i < line.size() && std::isalnum(static_cast<unsigned char>(line[i]))) ++i;
  const std::string name = lower(std::string(line.substr(name_start, i - name_start)));
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size() || line[i] != '=') {
    return std::nullopt;
  }
  const std::string value = trim(line.substr(i + 1));
  if (value.empty()) {
    return std::nullopt;
  }
  return std::make_pair(name, value);
}

// Removes a trailing escape character (and the blanks after it); true if there was one.
bool strip_continuation(std::string& line, char escape)
{
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end > 0 && line[end - 1] == escape) {
    line.resize(end - 1);
    return true;
  }
  return false;
}

// BuildKit's extractBuilderFlags: leading words that start with "--"; quotes removed, '\' escapes.
std::vector<std::string> extract_flags(const std::string& rest, std::string& args)
{
  std::vector<std::string> flags;
  size_t pos = 0;
  for (;;) {
    while (pos < rest.size() && is_ascii_space(rest[pos])) ++pos;
    if (pos + 1 >= rest.size() || rest[pos] != '-' || rest[pos + 1] != '-') {
      break;
    }
    std::string word;
    char quote = 0;
    size_t i = pos;
    for (; i < rest.size(); ++i) {
      const char c = rest[i];
      if (quote) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && i + 1 < rest.size()) {
          word += rest[++i];
        } else {
          word += c;
        }
      } else if (is_ascii_space(c)) {
        break;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '\\' && i + 1 < rest.size()) {
        word += rest[++i];
      } else {
        word += c;
      }
    }
    pos = i;
    if (word == "--") {
      break;
    }
    flags.push_back(word);
  }
  args = trim(std::string_view(rest).substr(std::min(pos, rest.size())));
  return flags;
}

// Docker's lexer for one word (see expand_word).
class Lexer {
public:
  Lexer(std::string_view text, const Variables& vars, char escape) : m_text(text), m_vars(vars), m_escape(escape) {}

  struct Words {
    std::vector<std::string> list;
    std::string word;
    bool in_word = false;
    void add_char(char c)
    {
      if (is_ascii_space(c)) {
        add_blank();
      } else {
        word += c;
        in_word = true;
      }
    }
    void add_raw_char(char c)
    {
      word += c;
      in_word = true;
    }
    void add_string(const std::string& s)
    {
      for (char c : s) add_char(c);
    }
    void add_raw_string(const std::string& s)
    {
      word += s;
      in_word = true;
    }
    void add_blank()
    {
      if (in_word) {
        list.push_back(word);
        word.clear();
        in_word = false;
      }
    }
  };

  // Processes up to stop (0: the end); returns the text, and the words into words if given.
  std::string process(char stop, Words* words)
  {
    std::string result;
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      if (stop && c == stop) {
        ++m_pos;
        return result;
      }
      if (c == '\'') {
        const std::string s = single_quote();
        result += s;
        if (words) words->add_raw_string(s);
      } else if (c == '"') {
        const std::string s = double_quote();
        result += s;
        if (words) words->add_raw_string(s);
      } else if (c == '$') {
        const std::string s = dollar();
        result += s;
        if (words) words->add_string(s);
      } else {
        ++m_pos;
        if (c == m_escape) {
          if (m_pos >= m_text.size()) {
            break; // a trailing escape character is dropped
          }
          const char next = m_text[m_pos++];
          result += next;
          if (words) words->add_raw_char(next);
        } else {
          result += c;
          if (words) words->add_char(c);
        }
      }
    }
    if (stop) {
      throw util::Error("syntax error: missing '}' in " + util::printable(m_text));
    }
    return result;
  }

private:
  std::string single_quote()
  {
    ++m_pos;
    std::string out;
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos++];
      if (c == '\'') {
        return out;
      }
      out += c;
    }
    throw util::Error("unexpected end of statement while looking for matching single-quote in " +
                      util::printable(m_text));
  }

  std::string double_quote()
  {
    ++m_pos;
    std::string out;
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      if (c == '"') {
        ++m_pos;
        return out;
      }
      if (c == '$') {
        out += dollar();
        continue;
      }
      ++m_pos;
      if (c == m_escape && m_pos < m_text.size()) {
        const char next = m_text[m_pos];
        // Only these can be escaped inside double quotes; other escapes stay as written.
        if (next == '"' || next == '$' || next == m_escape) {
          out += next;
          ++m_pos;
          continue;
        }
      }
      out += c;
    }
    throw util::Error("unexpected end of statement while looking for matching double-quote in " +
                      util::printable(m_text));
  }

  static bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
  static bool is_special_param(char c)
  {
    return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' || c == '0';
  }

  std::string name()
  {
    std::string out;
    if (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
      while (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
        out += m_text[m_pos++];
      }
      return out;
    }
    if (m_pos < m_text.size() && is_special_param(m_text[m_pos])) {
      return std::string(1, m_text[m_pos++]);
    }
    while (m_pos < m_text.size() && is_name_char(m_text[m_pos])) {
      out += m_text[m_pos++];
    }
    return out;
  }

  const std::string* lookup(const std::string& n) const
  {
    const auto it = m_vars.find(n);
    return it == m_vars.end() ? nullptr : &it->second;
  }

  std::string dollar()
  {
    ++m_pos; // '$'
    if (m_pos >= m_text.size() || m_text[m_pos] != '{') {
      const std::string n = name();
      if (n.empty()) {
        return "$";
      }
      const std::string* v = lookup(n);
      return v ? *v : std::string();
    }
    ++m_pos; // '{'
    if (m_pos >= m_text.size()) {
      throw util::Error("syntax error: missing '}' in " + util::printable(m_text));
    }
    if (m_text[m_pos] == '{' || m_text[m_pos] == '}' || m_text[m_pos] == ':') {
      throw util::Error("syntax error: bad substitution in " + util::printable(m_text));
    }
    const std::string n = name();
    if (m_pos >= m_text.size()) {
      throw util::Error("syntax error: missing '}' in " + util::printable(m_text));
    }
    char op = m_text[m_pos++];
    const std::string* v = lookup(n);
    if (op == '}') {
      return v ? *v : std::string();
    }
    bool colon = false;
    if (op == ':') {
      if (m_pos >= m_text.size()) {
        throw util::Error("syntax error: missing '}' in " + util::printable(m_text));
      }
      colon = true;
      op = m_text[m_pos++];
    }
    if (op != '-' && op != '+' && op != '?') {
      throw util::Error(std::string("unsupported modifier (") + op + ") in substitution: " + util::printable(m_text));
    }
    const std::string word = process('}', nullptr);
    // With ':' an empty value counts as unset.
    const bool set = v && (!colon || !v->empty());
    switch (op) {
    case '-': return set ? *v : word;
    case '+': return set ? word : std::string();
    default:
      if (!set) {
        throw util::Error(n + ": " + (word.empty() ? (colon ? "is not allowed to be empty" : "is not allowed to be unset") : word));
      }
      return *v;
    }
  }

  std::string_view m_text;
  const Variables& m_vars;
  char m_escape;
  size_t m_pos = 0;
};

// BuildKit's parseWords: white-space separated words, quotes and escapes kept for expand_word.
std::vector<std::string> split_keeping_quotes(std::string_view rest, char escape)
{
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  bool blank_ok = false;
  char quote = 0;
  for (size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == escape && quote != '\'' && i + 1 < rest.size()) {
        word += c;
        word += rest[++i];
        continue;
      }
      word += c;
      continue;
    }
    if (is_ascii_space(c)) {
      if (in_word && (blank_ok || !word.empty())) {
        words.push_back(word);
      }
      word.clear();
      in_word = false;
      blank_ok = false;
      continue;
    }
    in_word = true;
    if (c == '"' || c == '\'') {
      quote = c;
      blank_ok = true;
    } else if (c == escape) {
      if (i + 1 == rest.size()) {
        continue; // an escape character at the end is dropped
      }
      // Outside quotes the escape and the character after it are both kept for expand_word.
      word += c;
      word += rest[++i];
      continue;
    }
    word += c;
  }
  if (in_word && (blank_ok || !word.empty())) {
    words.push_back(word);
  }
  return words;
}

// A JSON array of strings, or nullopt (then the text is a shell form).
std::optional<std::vector<std::string>> json_strings(const std::string& text)
{
  if (text.empty() || text.front() != '[') {
    return std::nullopt;
  }
  image::Json parsed;
  try {
    parsed = image::Json::parse(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!parsed.is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& j : parsed) {
    if (!j.is_string()) {
      return std::nullopt;
    }
    out.push_back(j.get<std::string>());
  }
  return out;
}

std::vector<std::string> split_blanks(std::string_view text)
{
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (is_ascii_space(c)) {
      if (!cur.empty()) {
        out.push_back(cur);
        cur.clear();
      }
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) {
    out.push_back(cur);
  }
  return out;
}

bool parse_uint(std::string_view text, std::uint64_t& value, int base = 10)
{
  if (text.empty()) {
    return false;
  }
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool is_url(const std::string& s)
{
  static const char* const k_prefixes[] = {"http://", "https://", "git://", "ssh://", "git@"};
  const std::string l = lower(s);
  return std::any_of(std::begin(k_prefixes), std::end(k_prefixes),
                     [&](const char* p) { return l.rfind(p, 0) == 0; });
}

const char* const k_run_hint =
    "RUN needs a container runtime, and reproimg build has none (no daemon, no namespaces); build the rootfs "
    "with a tool that runs commands (debootstrap, mmdebstrap, a package manager into a directory) and turn it "
    "into an image with `reproimg import`, or prepare the files beforehand and ADD or COPY them";

class Planner {
public:
  Planner(const Dockerfile& df, const PlanOptions& options) : m_df(df), m_options(options)
  {
    m_plan.platform = options.platform;
    // BuildKit's automatic platform arguments, for FROM and for `ARG TARGETARCH` in the stage.
    const image::Platform& p = options.platform;
    m_global["TARGETOS"] = p.os;
    m_global["TARGETARCH"] = p.architecture;
    m_global["TARGETVARIANT"] = p.variant;
    m_global["TARGETPLATFORM"] = p.os + "/" + p.architecture + (p.variant.empty() ? "" : "/" + p.variant);
    m_env["PATH"] = k_default_path;
  }

  BuildPlan run()
  {
    for (const auto& ins : m_df.instructions) {
      m_ins = &ins;
      try {
        step(ins);
      } catch (const util::Error& e) {
        if (m_wrapped) {
          throw;
        }
        const util::Error failed = fail(e.what());
        e.rethrow_as(*failed.where(), failed.message()); // an IoError stays one
      }
    }
    if (!m_in_stage) {
      m_ins = nullptr;
      throw util::Error(util::Location::of(m_df.name),
                        "no FROM instruction (a Dockerfile for reproimg build starts with FROM scratch "
                        "or FROM a local image)");
    }
    for (const auto& [k, v] : m_options.build_args) {
      if (!m_declared.count(k)) {
        m_plan.warnings.push_back("build argument " + util::printable(k) + " was not consumed: no ARG " +
                                  util::printable(k) + " in " + m_df.name);
      }
    }
    return std::move(m_plan);
  }

private:
  // An error naming the current line; marked so run() does not wrap it twice.
  util::Error fail(const std::string& message)
  {
    m_wrapped = true;
    if (!m_ins) {
      return util::Error(util::Location::of(m_df.name), message);
    }
    const std::string trigger =
        m_trigger.empty() ? std::string() : "the base image's ONBUILD trigger '" + util::printable(m_trigger) + "': ";
    return util::Error(util::Location::of_line(m_df.name, m_ins->line), trigger + m_ins->keyword + ": " + message);
  }

  Variables vars() const
  {
    Variables v = m_args;
    for (const auto& [k, val] : m_env) {
      v[k] = val; // ENV overrides ARG, as Docker documents
    }
    return v;
  }

  std::string expand(const std::string& word) const { return expand_word(word, vars(), m_df.escape); }

  // "--name=value" flags; names not in allowed are refused.
  std::map<std::string, std::string> flags(const DockerfileInstruction& ins, std::initializer_list<const char*> allowed)
  {
    std::map<std::string, std::string> out;
    for (const auto& f : ins.flags) {
      const auto eq = f.find('=');
      const std::string n = f.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return n == a; });
      if (!known) {
        throw fail("unknown flag --" + util::printable(n));
      }
      out[n] = eq == std::string::npos ? std::string("true") : f.substr(eq + 1);
    }
    return out;
  }

  void need_args(const DockerfileInstruction& ins)
  {
    if (ins.args.empty()) {
      throw fail("needs an argument");
    }
  }

  BuildStep make(StepKind kind, const DockerfileInstruction& ins)
  {
    BuildStep s;
    s.kind = kind;
    s.line = ins.line;
    s.keyword = ins.keyword;
    return s;
  }

  // KEY=VALUE ... or the legacy "KEY VALUE" (ENV, LABEL), substituted.
  std::vector<std::pair<std::string, std::string>> key_values(const DockerfileInstruction& ins)
  {
    need_args(ins);
    const auto words = split_keeping_quotes(ins.args, m_df.escape);
    std::vector<std::pair<std::string, std::string>> out;
    if (words.empty()) {
      throw fail("needs KEY=VALUE");
    }
    if (words[0].find('=') == std::string::npos) {
      size_t i = 0;
      while (i < ins.args.size() && !is_ascii_space(ins.args[i])) ++i;
      const std::string value = trim(std::string_view(ins.args).substr(i));
      if (value.empty()) {
        throw fail("must have two arguments (KEY VALUE) or KEY=VALUE pairs");
      }
      out.emplace_back(expand(ins.args.substr(0, i)), expand(value));
    } else {
      for (const auto& w : words) {
        const auto eq = w.find('=');
        if (eq == std::string::npos) {
          throw fail("can't find = in '" + util::printable(w) + "': want name=value");
        }
        out.emplace_back(expand(w.substr(0, eq)), expand(w.substr(eq + 1)));
      }
    }
    for (const auto& [k, v] : out) {
      if (k.empty()) {
        throw fail("a name cannot be blank");
      }
    }
    return out;
  }

  // A JSON array or a shell form wrapped in the current SHELL.
  std::vector<std::string> command(const DockerfileInstruction& ins)
  {
    need_args(ins);
    if (auto argv = json_strings(ins.args)) {
      return *argv;
    }
    std::vector<std::string> argv = m_shell;
    argv.push_back(ins.args);
    return argv;
  }

  static std::string history_of(const std::string& keyword, const std::vector<std::pair<std::string, std::string>>& kv)
  {
    std::string h = keyword;
    for (const auto& [k, v] : kv) {
      h += " " + k + "=" + v;
    }
    return h;
  }

  std::string absolute(const std::string& path) const
  {
    return clean_path(!path.empty() && path.front() == '/' ? path : m_workdir + "/" + path);
  }

  void step(const DockerfileInstruction& ins)
  {
    using Handler = void (Planner::*)(const DockerfileInstruction&);
    static const std::map<std::string, Handler> handlers = {
        {"ADD", &Planner::plan_copy},          {"CMD", &Planner::plan_command},
        {"COPY", &Planner::plan_copy},         {"ENTRYPOINT", &Planner::plan_command},
        {"ENV", &Planner::plan_pairs},         {"EXPOSE", &Planner::plan_expose},
        {"HEALTHCHECK", &Planner::healthcheck}, {"LABEL", &Planner::plan_pairs},
        {"MAINTAINER", &Planner::plan_maintainer}, {"ONBUILD", &Planner::plan_onbuild},
        {"SHELL", &Planner::plan_shell},       {"STOPSIGNAL", &Planner::plan_value},
        {"USER", &Planner::plan_value},        {"VOLUME", &Planner::plan_volume},
        {"WORKDIR", &Planner::plan_workdir},
    };
    const std::string& kw = ins.keyword;
    if (kw == "ARG") {
      arg(ins);
      return;
    }
    if (kw == "FROM") {
      from(ins);
      return;
    }
    if (!m_in_stage) {
      throw fail("comes before FROM (a Dockerfile starts with FROM; only ARG may come before it)");
    }
    if (kw == "RUN") {
      throw fail(k_run_hint);
    }
    const auto it = handlers.find(kw);
    if (it == handlers.end()) {
      throw fail("unknown instruction");
    }
    (this->*(it->second))(ins);
  }

  void plan_copy(const DockerfileInstruction& ins) { copy(ins, ins.keyword == "ADD"); }

  // CMD, ENTRYPOINT
  void plan_command(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    BuildStep s = make(ins.keyword == "CMD" ? StepKind::cmd : StepKind::entrypoint, ins);
    s.words = command(ins);
    s.history = ins.keyword + " " + image::Json(s.words).dump();
    m_plan.steps.push_back(std::move(s));
  }

  void plan_shell(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    const auto argv = json_strings(ins.args);
    if (!argv || argv->empty()) {
      throw fail("wants a JSON array of strings, e.g. SHELL [\"/bin/sh\", \"-c\"]");
    }
    m_shell = *argv;
    BuildStep s = make(StepKind::shell, ins);
    s.words = *argv;
    s.history = "SHELL " + image::Json(s.words).dump();
    m_plan.steps.push_back(std::move(s));
  }

  // ENV, LABEL
  void plan_pairs(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    const bool env = ins.keyword == "ENV";
    BuildStep s = make(env ? StepKind::env : StepKind::label, ins);
    s.pairs = key_values(ins);
    if (env) {
      // All values are substituted with the variables as they were before this instruction.
      for (const auto& [k, v] : s.pairs) {
        m_env[k] = v;
      }
    }
    s.history = history_of(ins.keyword, s.pairs);
    m_plan.steps.push_back(std::move(s));
  }

  void plan_workdir(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    const std::string dir = expand(ins.args);
    if (dir.empty()) {
      throw fail("the directory is empty after substitution");
    }
    m_workdir = absolute(dir);
    BuildStep s = make(StepKind::workdir, ins);
    s.value = m_workdir;
    s.history = "WORKDIR " + m_workdir;
    m_plan.steps.push_back(std::move(s));
  }

  // USER, STOPSIGNAL
  void plan_value(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    const bool signal = ins.keyword == "STOPSIGNAL";
    BuildStep s = make(signal ? StepKind::stopsignal : StepKind::user, ins);
    s.value = expand(ins.args);
    if (s.value.empty()) {
      throw fail("the value is empty after substitution");
    }
    if (signal) {
      check_signal(s.value);
    }
    s.history = ins.keyword + " " + s.value;
    m_plan.steps.push_back(std::move(s));
  }

  void plan_expose(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    BuildStep s = make(StepKind::expose, ins);
    for (const auto& p : expand_words(ins.args, vars(), m_df.escape)) {
      expose(p, s.words);
    }
    std::string h = "EXPOSE";
    for (const auto& p : s.words) h += " " + p;
    s.history = h;
    m_plan.steps.push_back(std::move(s));
  }

  void plan_volume(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    BuildStep s = make(StepKind::volume, ins);
    const auto list = json_strings(ins.args);
    for (const auto& w : list ? *list : split_blanks(ins.args)) {
      const std::string v = expand(w);
      if (trim(v).empty()) {
        throw fail("a volume cannot be an empty string");
      }
      s.words.push_back(v);
    }
    s.history = "VOLUME " + image::Json(s.words).dump();
    m_plan.steps.push_back(std::move(s));
  }

  void plan_onbuild(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    const auto first = split_blanks(ins.args);
    const std::string trigger = upper(first.at(0));
    if (trigger == "ONBUILD" || trigger == "FROM" || trigger == "MAINTAINER") {
      throw fail(trigger + " isn't allowed as an ONBUILD trigger");
    }
    BuildStep s = make(StepKind::onbuild, ins);
    s.value = ins.args;
    s.history = "ONBUILD " + ins.args;
    m_plan.steps.push_back(std::move(s));
  }

  void plan_maintainer(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    BuildStep s = make(StepKind::maintainer, ins);
    s.value = ins.args;
    s.history = "MAINTAINER " + ins.args;
    m_plan.steps.push_back(std::move(s));
  }

  void from(const DockerfileInstruction& ins)
  {
    if (m_in_stage) {
      throw fail("a second stage: multi-stage builds are not supported (one stage, FROM scratch or a local image)");
    }
    const auto f = flags(ins, {"platform"});
    need_args(ins);
    const auto words = split_blanks(ins.args);
    const std::string image = expand_word(words[0], m_global, m_df.escape);
    if (image.empty()) {
      throw fail("the image is empty after substitution");
    }
    if (words.size() == 3 && lower(words[1]) == "as") {
      m_plan.stage_name = words[2];
    } else if (words.size() != 1) {
      throw fail("want FROM IMAGE [AS name]");
    }
    const auto platform_flag = f.find("platform");
    if (platform_flag != f.end()) {
      m_plan.platform = image::parse_platform(expand_word(platform_flag->second, m_global, m_df.escape));
    }
    m_in_stage = true;
    m_plan.from_line = ins.line;
    if (lower(image) == "scratch") {
      return;
    }
    if (!m_options.load_base) {
      throw fail("'" + util::printable(image) + "': this build reads no base images (only FROM scratch)");
    }
    m_plan.base = image;
    m_plan.base_config = m_options.load_base(image, m_plan.platform, platform_flag != f.end());
    const image::Json& config = m_plan.base_config;
    // The image is what it is: its platform is the image's.
    auto field = [&](const char* key) {
      const auto it = config.find(key);
      return it != config.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!field("os").empty() && !field("architecture").empty()) {
      m_plan.platform = image::Platform{field("os"), field("architecture"), field("variant")};
    }
    const image::Json section = config.contains("config") && config["config"].is_object() ? config["config"] : image::Json::object();
    // The stage's variables, working directory and shell start as the image's.
    m_env.clear();
    if (section.contains("Env") && section["Env"].is_array()) {
      for (const auto& e : section["Env"]) {
        if (!e.is_string()) {
          throw fail("'" + util::printable(image) + "': the image's Env holds a value that is not a string");
        }
        const std::string s = e.get<std::string>();
        const auto eq = s.find('=');
        m_env[s.substr(0, eq)] = eq == std::string::npos ? std::string() : s.substr(eq + 1);
      }
    }
    if (section.contains("WorkingDir") && section["WorkingDir"].is_string() &&
        !section["WorkingDir"].get<std::string>().empty()) {
      m_workdir = clean_path("/" + section["WorkingDir"].get<std::string>());
    }
    if (const auto shell = strings_of(section, "Shell"); shell && !shell->empty()) {
      m_shell = *shell;
    }
    // ONBUILD triggers run as if they followed FROM; their errors name the FROM line and the trigger.
    for (const auto& text : strings_of(section, "OnBuild").value_or(std::vector<std::string>())) {
      const Dockerfile parsed = parse_dockerfile(text, m_df.name);
      for (const auto& parsed_ins : parsed.instructions) {
        DockerfileInstruction& t = m_triggers.emplace_back(parsed_ins);
        t.line = ins.line;
        m_trigger = text;
        m_ins = &t;
        if (t.keyword == "FROM" || t.keyword == "ONBUILD" || t.keyword == "MAINTAINER") {
          throw fail("not allowed as a trigger");
        }
        step(t);
      }
    }
    m_trigger.clear();
    m_ins = &ins;
  }

  // A list of strings in the base image's config (null or absent: nullopt).
  std::optional<std::vector<std::string>> strings_of(const image::Json& section, const char* key)
  {
    if (!section.contains(key) || section[key].is_null()) {
      return std::nullopt;
    }
    const image::Json& list = section[key];
    if (!list.is_array() || !std::all_of(list.begin(), list.end(), [](const image::Json& j) { return j.is_string(); })) {
      throw fail("'" + util::printable(m_plan.base) + "': the image config's " + key + " is not a list of strings");
    }
    return list.get<std::vector<std::string>>();
  }

  void arg(const DockerfileInstruction& ins)
  {
    flags(ins, {});
    need_args(ins);
    BuildStep s = make(StepKind::arg, ins);
    std::vector<std::pair<std::string, std::string>> shown;
    for (const auto& w : split_keeping_quotes(ins.args, m_df.escape)) {
      const auto eq = w.find('=');
      const std::string key = w.substr(0, eq);
      if (key.empty()) {
        throw fail("a name cannot be blank");
      }
      m_declared.insert(key);
      std::optional<std::string> value;
      const auto given = m_options.build_args.find(key);
      if (given != m_options.build_args.end()) {
        value = given->second;
      } else if (eq != std::string::npos) {
        value = m_in_stage ? expand(w.substr(eq + 1)) : expand_word(w.substr(eq + 1), m_global, m_df.escape);
      } else if (m_in_stage) {
        if (const auto g = m_global.find(key); g != m_global.end()) {
          value = g->second;
        }
      }
      Variables& scope = m_in_stage ? m_args : m_global;
      if (value) {
        scope[key] = *value;
      } else {
        scope.erase(key);
      }
      std::string shown_text = key;
      if (eq != std::string::npos || given != m_options.build_args.end()) {
        shown_text += "=" + value.value_or("");
      }
      s.history += (s.history.empty() ? "ARG " : " ") + shown_text;
    }
    if (m_in_stage) {
      m_plan.steps.push_back(std::move(s));
    }
  }

  void copy(const DockerfileInstruction& ins, bool add)
  {
    const auto f = add ? flags(ins, {"chown", "chmod", "link", "checksum", "keep-git-dir"})
                       : flags(ins, {"chown", "chmod", "link", "from"});
    if (f.count("from")) {
      throw fail("--from is not supported: one stage only; copy from the build context");
    }
    need_args(ins);
    std::vector<std::string> list;
    if (auto json = json_strings(ins.args)) {
      list = *json;
    } else {
      list = split_blanks(ins.args);
    }
    for (const auto& w : list) {
      if (w.rfind("<<", 0) == 0) {
        throw fail("here-documents are not supported; put the content in a file in the build context");
      }
    }
    if (list.size() < 2) {
      throw fail("wants at least one source and a destination");
    }
    BuildStep s = make(StepKind::copy, ins);
    s.add = add;
    for (auto& w : list) {
      w = expand(w);
    }
    for (size_t i = 0; i + 1 < list.size(); ++i) {
      if (is_url(list[i])) {
        if (add) {
          throw fail("'" + util::printable(list[i]) +
                     "': a remote source needs the network, and reproimg build does not use it (a download is not "
                     "reproducible by itself); download the file first, check its checksum, and ADD it from the "
                     "build context");
        }
        throw fail("'" + util::printable(list[i]) + "': COPY takes no URL; download the file into the build context first");
      }
      if (list[i].empty()) {
        throw fail("a source is empty after substitution");
      }
      s.words.push_back(list[i]);
    }
    if (f.count("checksum") || f.count("keep-git-dir")) {
      throw fail("--checksum and --keep-git-dir apply to remote sources, which are not supported");
    }
    const std::string dest = list.back();
    if (dest.empty()) {
      throw fail("the destination is empty after substitution");
    }
    s.value = absolute(dest);
    s.dest_is_dir = dest.back() == '/' || dest == "." || dest == ".." || dest.ends_with("/.") || dest.ends_with("/..") ||
                    s.value == "/";
    if (s.words.size() > 1 && !s.dest_is_dir) {
      throw fail("with more than one source the destination must be a directory and end with a /");
    }
    if (const auto it = f.find("chown"); it != f.end()) {
      s.chown = owner(expand(it->second));
    }
    if (const auto it = f.find("chmod"); it != f.end()) {
      const std::string m = expand(it->second);
      std::uint64_t mode = 0;
      if (!parse_uint(m, mode, 8) || mode > 07777) {
        throw fail("--chmod=" + util::printable(m) + ": want an octal mode such as 755 or 0644");
      }
      s.chmod = static_cast<std::uint32_t>(mode);
    }
    m_plan.steps.push_back(std::move(s));
  }

  std::pair<std::int64_t, std::int64_t> owner(const std::string& spec)
  {
    const auto colon = spec.find(':');
    const std::string u = spec.substr(0, colon);
    const std::string g = colon == std::string::npos ? u : spec.substr(colon + 1);
    std::uint64_t uid = 0;
    std::uint64_t gid = 0;
    if (!parse_uint(u, uid) || !parse_uint(g, gid) || uid > 0xFFFFFFFFu || gid > 0xFFFFFFFFu) {
      throw fail("--chown=" + util::printable(spec) +
                 ": want numeric UID[:GID]; user and group names need the image's /etc/passwd and /etc/group, "
                 "which reproimg build does not look up");
    }
    return {static_cast<std::int64_t>(uid), static_cast<std::int64_t>(gid)};
  }

  void expose(const std::string& spec, std::vector<std::string>& out)
  {
    const auto slash = spec.find('/');
    const std::string ports = spec.substr(0, slash);
    const std::string proto = slash == std::string::npos ? "tcp" : lower(spec.substr(slash + 1));
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
      throw fail("'" + util::printable(spec) + "': the protocol must be tcp, udp or sctp");
    }
    const auto dash = ports.find('-');
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    const bool ok = dash == std::string::npos
                        ? parse_uint(ports, first) && (last = first, true)
                        : parse_uint(ports.substr(0, dash), first) && parse_uint(ports.substr(dash + 1), last);
    if (!ok || first > 65535 || last > 65535 || last < first) {
      throw fail("'" + util::printable(spec) + "': want PORT[-PORT][/PROTOCOL]");
    }
    for (std::uint64_t p = first; p <= last; ++p) {
      out.push_back(std::to_string(p) + "/" + proto);
    }
  }

  void check_signal(const std::string& sig)
  {
    std::uint64_t n = 0;
    if (parse_uint(sig, n)) {
      if (n == 0 || n > 64) {
        throw fail("signal number " + sig + " is out of range");
      }
      return;
    }
    const bool ok = std::all_of(sig.begin(), sig.end(), [](char c) {
      return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '+' ||
             c == '-';
    });
    if (!ok) {
      throw fail("'" + util::printable(sig) + "' is not a signal name or number");
    }
  }

  void healthcheck(const DockerfileInstruction& ins)
  {
    const auto f = flags(ins, {"interval", "timeout", "start-period", "start-interval", "retries"});
    need_args(ins);
    size_t i = 0;
    while (i < ins.args.size() && !is_ascii_space(ins.args[i])) ++i;
    const std::string type = upper(ins.args.substr(0, i));
    const std::string rest = trim(std::string_view(ins.args).substr(i));
    BuildStep s = make(StepKind::healthcheck, ins);
    image::Json hc = image::Json::object();
    if (type == "NONE") {
      if (!rest.empty() || !f.empty()) {
        throw fail("HEALTHCHECK NONE takes no arguments");
      }
      hc["Test"] = image::Json::array({"NONE"});
    } else if (type == "CMD") {
      if (rest.empty()) {
        throw fail("missing command after HEALTHCHECK CMD");
      }
      image::Json test = image::Json::array();
      if (auto argv = json_strings(rest)) {
        test.push_back("CMD");
        for (const auto& a : *argv) test.push_back(a);
      } else {
        test = image::Json::array({"CMD-SHELL", rest});
      }
      hc["Test"] = test;
      static const std::pair<const char*, const char*> k_durations[] = {
          {"interval", "Interval"}, {"timeout", "Timeout"}, {"start-period", "StartPeriod"},
          {"start-interval", "StartInterval"}};
      for (const auto& [flag, field] : k_durations) {
        const auto it = f.find(flag);
        if (it == f.end()) {
          continue;
        }
        const auto d = parse_go_duration(it->second);
        if (!d || *d < 0) {
          throw fail(std::string("--") + flag + "=" + util::printable(it->second) + ": want a duration such as 30s or 1m30s");
        }
        if (*d != 0 && *d < 1000000) {
          throw fail(std::string("--") + flag + " cannot be less than 1ms");
        }
        if (*d != 0) {
          hc[field] = *d;
        }
      }
      if (const auto it = f.find("retries"); it != f.end()) {
        std::uint64_t r = 0;
        if (!parse_uint(it->second, r) || r > 0x7FFFFFFF) {
          throw fail("--retries=" + util::printable(it->second) + ": want a number that is not negative");
        }
        if (r != 0) {
          hc["Retries"] = r;
        }
      }
    } else {
      throw fail("unknown type '" + util::printable(type) + "' (want CMD or NONE)");
    }
    s.healthcheck = hc;
    s.history = "HEALTHCHECK " + ins.text;
    m_plan.steps.push_back(std::move(s));
  }

  const Dockerfile& m_df;
  const PlanOptions& m_options;
  const DockerfileInstruction* m_ins = nullptr;
  bool m_wrapped = false;
  BuildPlan m_plan;
  bool m_in_stage = false;
  Variables m_global; // ARGs before FROM (and the automatic TARGET* ones)
  Variables m_args;   // ARGs of the stage
  Variables m_env;    // ENV of the stage
  std::set<std::string> m_declared;
  std::string m_workdir = "/";
  std::vector<std::string> m_shell = {"/bin/sh", "-c"};
  std::deque<DockerfileInstruction> m_triggers; // the base image's ONBUILD instructions (m_ins may point here)
  std::string m_trigger;                        // the one being planned, for messages
};

} // namespace

Dockerfile parse_dockerfile(std::string_view text, const std::string& name)
{
  Dockerfile df;
  df.name = name;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i <= text.size();) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) {
      j = text.size();
    }
    std::string line(text.substr(i, j - i));
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    lines.push_back(std::move(line));
    i = j + 1;
  }

  bool directives_open = true;
  std::set<std::string> seen_directives;
  size_t n = 0;
  while (n < lines.size()) {
    std::string line = lines[n];
    const int line_no = static_cast<int>(n) + 1;
    ++n;
    if (directives_open) {
      if (const auto d = parse_directive(line)) {
        if (d->first == "escape" || d->first == "syntax" || d->first == "check") {
          if (!seen_directives.insert(d->first).second) {
            throw util::Error(util::Location::of_line(name, line_no),
                              "the parser directive '" + d->first + "' is given twice");
          }
          if (d->first == "escape") {
            if (d->second != "\\" && d->second != "`") {
              throw util::Error(util::Location::of_line(name, line_no),
                                "invalid escape token '" + util::printable(d->second) + "' (want \\ or `)");
            }
            df.escape = d->second[0];
          }
          continue;
        }
      }
      directives_open = false;
    }
    const std::string start = ltrim(line);
    if (start.empty() || start[0] == '#') {
      continue;
    }
    bool more = strip_continuation(line, df.escape);
    std::string joined = ltrim(line);
    while (more && n < lines.size()) {
      std::string next = lines[n++];
      const std::string t = ltrim(next);
      if (t.empty() || t[0] == '#') {
        continue; // comments and blank lines inside a continuation are skipped, as Docker does
      }
      more = strip_continuation(next, df.escape);
      joined += next;
    }
    const std::string instruction = trim(joined);
    if (instruction.empty()) {
      continue;
    }
    size_t k = 0;
    while (k < instruction.size() && !is_ascii_space(instruction[k])) ++k;
    DockerfileInstruction ins;
    ins.line = line_no;
    ins.keyword = upper(instruction.substr(0, k));
    ins.text = trim(std::string_view(instruction).substr(k));
    ins.flags = extract_flags(ins.text, ins.args);
    df.instructions.push_back(std::move(ins));
  }
  return df;
}

std::string expand_word(std::string_view word, const Variables& vars, char escape)
{
  Lexer lexer(word, vars, escape);
  return lexer.process(0, nullptr);
}

std::vector<std::string> expand_words(std::string_view text, const Variables& vars, char escape)
{
  Lexer lexer(text, vars, escape);
  Lexer::Words words;
  lexer.process(0, &words);
  words.add_blank();
  return words.list;
}

BuildPlan plan_build(const Dockerfile& dockerfile, const PlanOptions& options)
{
  Planner planner(dockerfile, options);
  return planner.run();
}

std::optional<std::int64_t> parse_go_duration(std::string_view text)
{
  if (text == "0") {
    return 0;
  }
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  static const std::pair<const char*, double> k_units[] = {
      {"ns", 1.0}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == 0) {
      return std::nullopt;
    }
    double number = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
    if (ec != std::errc() || ptr != text.data() + i) {
      return std::nullopt;
    }
    text.remove_prefix(i);
    size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.') ++u;
    const std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    const auto it = std::find_if(std::begin(k_units), std::end(k_units), [&](const auto& p) { return unit == p.first; });
    if (it == std::end(k_units)) {
      return std::nullopt;
    }
    total += number * it->second;
  }
  if (total > 9.2e18) {
    return std::nullopt;
  }
  const auto ns = static_cast<std::int64_t>(total + 0.5);
  return negative ? -ns : ns;
}

} // namespace reproimg::dockerfile
