// The subcommands; main.cpp dispatches to them from one table.
#pragma once

namespace reproimg::cli {

// Each takes the arguments after the subcommand name (argv[0] is the subcommand) and returns
// the exit code. They throw util::Error for bad input and cxxopts exceptions for bad usage.
int cmd_normalize(int argc, char** argv);
int cmd_digest(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_import(int argc, char** argv);
int cmd_build(int argc, char** argv);
int cmd_diff(int argc, char** argv);
int cmd_lock(int argc, char** argv);
int cmd_verify(int argc, char** argv);
int cmd_audit(int argc, char** argv);
int cmd_rebuild(int argc, char** argv);
int cmd_cache(int argc, char** argv);
int cmd_copy(int argc, char** argv);

} // namespace reproimg::cli
