#include "tests/support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace agate::testing {

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

pid_t spawn(const std::filesystem::path& binary, const std::vector<std::string>& args,
            const std::filesystem::path& output) {
  const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) throw std::runtime_error("cannot create " + output.string());
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    std::vector<char*> argv;
    std::string bin = binary.string();
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out);
  return pid;
}

// Waits up to `timeout` for `pid` to exit; returns its waitpid status, or -1 if still running.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// What each sanitizer prints when it finds something, whatever the process does next: a report
// fails the test even when it comes at shutdown or from a process the test then kills.
constexpr std::array<std::string_view, 5> kSanitizerReports = {
    "WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:", "ERROR: LeakSanitizer:",
    ": runtime error: ", "ERROR: libFuzzer:"};

void check_for_sanitizer_reports(const std::filesystem::path& binary, const std::string& output) {
  for (const auto marker : kSanitizerReports) {
    const auto at = output.find(marker);
    if (at == std::string::npos) continue;
    const auto from = output.rfind('\n', at);
    ADD_FAILURE() << binary.filename().string() << " reported a sanitizer finding:\n"
                  << output.substr(from == std::string::npos ? 0 : from + 1, 6000);
    return;
  }
}

}  // namespace

ServerProcess::ServerProcess(const std::filesystem::path& binary,
                             const std::filesystem::path& data_dir,
                             std::vector<std::string> extra_args,
                             std::chrono::milliseconds timeout) {
  const auto parent = data_dir.parent_path();
  std::filesystem::create_directories(parent);
  const auto port_file = parent / "agated.port";
  std::filesystem::remove(port_file);
  output_file_ = parent / "agated.out";
  std::vector<std::string> args = {"--listen",        "127.0.0.1:0", "--data-dir",
                                   data_dir.string(), "--port-file", port_file.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  binary_ = binary;
  pid_ = spawn(binary, args, output_file_);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (std::filesystem::exists(port_file)) {
      port_ = static_cast<unsigned short>(std::stoul(read_file(port_file)));
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      check_for_sanitizer_reports(binary_, output());
      throw std::runtime_error("agated exited before listening:\n" + output());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("agated did not listen in time:\n" + output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ServerProcess::~ServerProcess() { stop(); }

std::string ServerProcess::output() const { return read_file(output_file_); }

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = wait_for(pid_, std::chrono::seconds(10));
  if (status == -1) {
    ::kill(pid_, SIGKILL);
    status = wait_for(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
  check_for_sanitizer_reports(binary_, output());
  return status;
}

void ServerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_for(pid_, std::chrono::seconds(10));
  pid_ = -1;
  check_for_sanitizer_reports(binary_, output());
}

RunResult run_process(const std::filesystem::path& binary, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout) {
  char pattern[] = "/tmp/agate-run-XXXXXX";
  const int fd = ::mkstemp(pattern);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  const std::filesystem::path out = pattern;
  const pid_t pid = spawn(binary, args, out);
  int status = wait_for(pid, timeout);
  if (status == -1) {
    ::kill(pid, SIGKILL);
    wait_for(pid, std::chrono::seconds(10));
    std::filesystem::remove(out);
    throw std::runtime_error(binary.string() + " did not finish in time");
  }
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = read_file(out);
  std::filesystem::remove(out);
  check_for_sanitizer_reports(binary, r.output);
  return r;
}

}  // namespace agate::testing
