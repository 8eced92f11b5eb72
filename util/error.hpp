// Errors that carry what a user needs to act: the file, the entry and the byte offset.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace reproimg::util {

// Exit codes shared by every subcommand (DESIGN.md "Exit codes").
enum class ExitCode : int {
  ok = 0,            // identical / verified / no hazard
  differs = 1,       // differs / not verified / hazards found
  bad_input = 2,     // usage error or bad input
  interrupted = 130,
};

// Where in an input something went wrong. Every part is optional.
struct Location {
  std::string file;
  std::optional<std::string> entry;
  std::optional<std::int64_t> offset;
};

// The one exception type that crosses layers. It is caught in cli/main.cpp, which prints
// "reproimg: error: <what()>" and exits with code(). Low-level code throws it with context so
// the message is one line a user can act on.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::bad_input)
      : std::runtime_error(message), m_code(code) {}
  Error(const Location& where, const std::string& message, ExitCode code = ExitCode::bad_input)
      : std::runtime_error(format(where, message)), m_code(code) {}

  ExitCode code() const { return m_code; }

  // "FILE: entry PATH: at offset N: MESSAGE", leaving out the parts that are unknown.
  static std::string format(const Location& where, const std::string& message);

private:
  ExitCode m_code;
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
