#include "tools/data_dir_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace agate::tools {

namespace {

constexpr const char* kLockFile = "agated.lock";

pid_t read_pid(int fd) {
  char buf[32] = {};
  const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  return static_cast<pid_t>(std::strtol(buf, nullptr, 10));
}

}  // namespace

DataDirLock::DataDirLock(const std::filesystem::path& dir) {
  const auto file = dir / kLockFile;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    throw std::runtime_error(
        fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const pid_t holder = err == EWOULDBLOCK ? read_pid(fd_) : 0;
    ::close(fd_);
    if (err == EWOULDBLOCK) {
      throw std::runtime_error(fmt::format("another agated is already using {} (it holds {}{})",
                                           dir.string(), file.string(),
                                           holder ? fmt::format(", pid {}", holder) : ""));
    }
    throw std::runtime_error(fmt::format("cannot lock {}: {}", file.string(), std::strerror(err)));
  }
  const auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] auto n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

DataDirLock::~DataDirLock() { ::close(fd_); }

std::optional<pid_t> lock_holder(const std::filesystem::path& dir) {
  const auto file = dir / kLockFile;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<pid_t> holder;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) holder = read_pid(fd);
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return holder;
}

}  // namespace agate::tools
