// Errors that carry what a user needs to act: the file, the entry and the byte offset.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace reproimg::util {

// Exit codes shared by every subcommand (DESIGN.md "Exit codes"); main() and the commands return
// them by name (exit_code() below).
enum class ExitCode : int {
  ok = 0,            // identical / verified / no hazard
  differs = 1,       // differs / not verified / hazards found
  bad_input = 2,     // usage error or bad input
  interrupted = 130,
};

// What main() and a command return for code.
constexpr int exit_code(ExitCode code) { return static_cast<int>(code); }

// What an offset counts, said in the message so that one number means one thing in every command:
// a byte of the file as stored ("at byte N": where a compressed stream is damaged, where a file
// ends early), or a position in the tar stream, decompressed ("at tar offset N": the header of
// the entry at fault). For an uncompressed tar file the two are the same.
enum class OffsetKind { byte, tar };

// Where in an input something went wrong. Every part is optional; line is a line of a text file
// (a Dockerfile, a .dockerignore), said as "FILE:LINE".
struct Location {
  std::string file;
  std::optional<std::string> entry;
  std::optional<std::int64_t> offset;
  OffsetKind offset_kind = OffsetKind::byte;
  std::optional<std::int64_t> line = std::nullopt;

  // The file alone, or a line of it.
  static Location of(std::string file) { return Location{std::move(file), std::nullopt, std::nullopt}; }
  static Location of_line(std::string file, std::int64_t line)
  {
    Location l = of(std::move(file));
    l.line = line;
    return l;
  }
};

// The one exception type that crosses layers. It is caught in cli/main.cpp, which prints
// "reproimg: error: <what()>" and exits with code(). Low-level code throws it with context so
// the message is one line a user can act on.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::bad_input)
      : std::runtime_error(message), m_code(code), m_message(message) {}
  Error(const Location& where, const std::string& message, ExitCode code = ExitCode::bad_input)
      : std::runtime_error(format(where, message)), m_code(code), m_where(where), m_message(message) {}

  ExitCode code() const { return m_code; }
  // Where, when it was said (the Location form), and the message without it.
  const std::optional<Location>& where() const { return m_where; }
  const std::string& message() const { return m_message; }

  // The same error in entry, when it names a file and no entry yet: what a reader that knows the
  // entry being read says of an error its input met (a damaged block of a compressed stream).
  Error in_entry(const std::string& entry) const;
  // Throws in_entry(entry) as an error of this one's kind (an IoError stays one).
  [[noreturn]] void rethrow_in_entry(const std::string& entry) const;
  // Throws an error of this one's kind (Error or IoError) and code, at where, saying message: for
  // a caller that says what it was doing when it met this error without changing what it means.
  [[noreturn]] void rethrow_as(const Location& where, const std::string& message) const;

  // "FILE[:LINE]: entry PATH: at byte N: MESSAGE" (or "at tar offset N", see OffsetKind), leaving
  // out the parts that are unknown.
  static std::string format(const Location& where, const std::string& message);

private:
  ExitCode m_code;
  std::optional<Location> m_where;
  std::string m_message;
};

// An error of the system while reading or writing (EIO, EACCES, ENOSPC, ...), as opposed to bad
// content: callers that try an input one way and fall back on another on bad content (is it an
// archive? an image?) must not fall back on this one.
class IoError : public Error {
public:
  using Error::Error;
};

// Makes a byte string printable on one line: control bytes and invalid UTF-8 become \xNN.
std::string printable(std::string_view bytes);

// strerror(errno) prefixed by what was being done, as an IoError.
[[noreturn]] void throw_errno(const std::string& what, const std::string& file);

} // namespace reproimg::util
