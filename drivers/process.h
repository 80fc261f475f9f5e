#pragma once

// Running a program for a driver: its input written to its standard input, its standard output
// and error collected, a timeout after which it is killed. No shell is involved.

#include <chrono>
#include <string>
#include <vector>

namespace agate::drivers {

struct ProcessResult {
  int status = 0;          // as waitpid reports it
  bool timed_out = false;  // killed at the timeout
  std::string out, err;    // at most 4 MiB of each
};

// Runs args[0] (an absolute path) with args. Throws std::runtime_error if it cannot be started.
// SIGPIPE is ignored in this process from the first call (a program that does not read its
// input must not kill us); the program itself gets the default disposition.
ProcessResult run_process(const std::vector<std::string>& args, const std::string& input,
                          std::chrono::milliseconds timeout);

}  // namespace agate::drivers
