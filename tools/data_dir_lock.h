#pragma once

// agated.lock: the file in a data directory that a running agated holds an exclusive flock(2) on,
// so that two servers never write one environment and offline tools can tell that one runs.

#include <sys/types.h>

#include <filesystem>
#include <optional>

namespace agate::tools {

// Holds the exclusive lock on <dir>/agated.lock for its lifetime, and writes the process id in
// the file. Throws std::runtime_error if another process holds it ("another agated is already
// using …") or the file cannot be opened.
class DataDirLock {
 public:
  explicit DataDirLock(const std::filesystem::path& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  int fd_ = -1;
};

// Whether a process holds <dir>/agated.lock now, without taking it for longer than the check
// (and without creating the file). Returns the pid written in the file (0 if unreadable) when it
// is held, nullopt when it is free or absent.
std::optional<pid_t> lock_holder(const std::filesystem::path& dir);

}  // namespace agate::tools
