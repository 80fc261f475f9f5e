#include "drivers/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace agate::drivers {

namespace {

constexpr std::size_t kMaxOutput = 4u << 20;  // kept of each stream; the rest is dropped

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) ::close(read), read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write), write = -1;
  }
};

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args, const std::string& input,
                          std::chrono::milliseconds timeout) {
  Pipe in, out, err;
  // posix_spawn, not fork: agated is multithreaded, and nothing may allocate between a fork and
  // the exec. The program gets the default SIGPIPE disposition that agated does not have.
  // A program that exits without reading its input must not kill agated with SIGPIPE when the
  // input is written to it: the write then fails with EPIPE.
  static const bool ignore_sigpipe = (::signal(SIGPIPE, SIG_IGN), true);
  (void)ignore_sigpipe;
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error(fmt::format("cannot run {}: {}", args.at(0), std::strerror(rc)));
  in.close_read();
  out.close_write();
  err.close_write();
  ::fcntl(in.write, F_SETFL, O_NONBLOCK);

  ProcessResult r;
  std::size_t written = 0;
  if (input.empty()) in.close_write();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (out.read >= 0 || err.read >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (in.write >= 0) fds[n++] = {in.write, POLLOUT, 0};
    if (out.read >= 0) fds[n++] = {out.read, POLLIN, 0};
    if (err.read >= 0) fds[n++] = {err.read, POLLIN, 0};
    if (::poll(fds, n, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in.write) {
        const auto k = ::write(in.write, input.data() + written, input.size() - written);
        if (k > 0) written += static_cast<std::size_t>(k);
        if (k < 0 && errno != EAGAIN) in.close_write();  // the program stopped reading
        if (written == input.size()) in.close_write();
      } else {
        const bool is_out = fds[i].fd == out.read;
        const auto k = ::read(fds[i].fd, buf, sizeof buf);
        if (k <= 0) {
          is_out ? out.close_read() : err.close_read();
        } else {
          auto& sink = is_out ? r.out : r.err;
          if (sink.size() < kMaxOutput) sink.append(buf, static_cast<std::size_t>(k));
        }
      }
    }
  }
  if (r.timed_out) ::kill(pid, SIGKILL);
  ::waitpid(pid, &r.status, 0);
  return r;
}

}  // namespace agate::drivers
