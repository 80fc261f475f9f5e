#pragma once

// Starts the real agated on a free loopback port for integration tests, and stops it.
// In the sanitizer builds, a report in the output of a process started here (found when it is
// stopped, killed or has exited) fails the running test.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace agate::testing {

class ServerProcess {
 public:
  // Starts `binary` with --listen 127.0.0.1:0, --data-dir `data_dir`, the given extra
  // arguments, and waits until it listens. Its output goes to <data_dir>/../agated.out.
  // Throws if it exits or does not listen within `timeout`.
  ServerProcess(const std::filesystem::path& binary, const std::filesystem::path& data_dir,
                std::vector<std::string> extra_args = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Stops the server (SIGTERM, then SIGKILL after 10 s).
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Everything the server printed so far.
  std::string output() const;
  // Sends SIGTERM and waits; returns the exit status as waitpid reports it.
  int stop();
  // Sends SIGKILL (a crash) and waits.
  void kill();

 private:
  std::filesystem::path binary_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::filesystem::path output_file_;
};

// Runs `binary` with `args` to completion; returns its exit code and its combined output.
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult run_process(const std::filesystem::path& binary, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace agate::testing
