#pragma once

// A small RAII wrapper over LMDB's C API, shaped after hoytech/lmdbxx.
//
// Resources (Env, Txn, Cursor) are move-only. Expected outcomes are values: a missing key is an
// empty optional, an existing key on a no-overwrite put is `false`. Every other failure throws
// lmdb::Error naming the call and LMDB's code ("mdb_put: MDB_MAP_FULL: …").
//
// Threading: an Env is shared by all threads. A Txn and its cursors stay on the thread that
// began them (the Env is opened with MDB_NOTLS, so several read transactions may be live on
// one thread, but none may move). Only one write transaction exists at a time per Env.

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace agate::lmdb {

class Error : public std::runtime_error {
 public:
  Error(const char* origin, int code);
  // LMDB's or errno's code (MDB_MAP_FULL, ENOSPC, …).
  int code() const noexcept { return code_; }

  [[noreturn]] static void raise(const char* origin, int code);

 private:
  int code_;
};

// True when `e` says the map or the disk is full: the write can succeed once room is made.
bool is_out_of_space(const Error& e) noexcept;

enum class Durability {
  sync,        // flush data and meta page on every commit (default; survives an OS crash)
  nometasync,  // flush data only; an OS crash may undo the last commit, a process crash not
  nosync,      // no flush; for tests and benchmarks only
};

std::string_view to_string(Durability d);
std::optional<Durability> parse_durability(std::string_view s);

struct EnvOptions {
  std::size_t map_size = std::size_t{16} << 30;  // the largest the data may grow to
  unsigned max_dbs = 64;
  unsigned max_readers = 256;
  Durability durability = Durability::sync;
  bool read_only = false;
};

class Env {
 public:
  // Opens (creating the directory if needed) the environment in `dir`: data.mdb and lock.mdb.
  static Env open(const std::filesystem::path& dir, const EnvOptions& options);

  Env(Env&& other) noexcept;
  Env& operator=(Env&& other) noexcept;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env();

  MDB_env* handle() const noexcept { return env_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  std::size_t map_size() const;
  // Bytes of the map in use (pages up to the last one written).
  std::size_t used_bytes() const;
  // Forces a flush, whatever the durability (for nosync users at a checkpoint).
  void sync();

 private:
  Env(MDB_env* env, std::filesystem::path path) : env_(env), path_(std::move(path)) {}
  MDB_env* env_ = nullptr;
  std::filesystem::path path_;
};

class Txn {
 public:
  static Txn begin_read(const Env& env);
  static Txn begin_write(Env& env);

  Txn(Txn&& other) noexcept : txn_(other.txn_) { other.txn_ = nullptr; }
  Txn& operator=(Txn&& other) noexcept;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  // Aborts the transaction if it is still open.
  ~Txn();

  // Commits; the handle is gone afterwards even if the commit fails (LMDB frees it either way).
  void commit();
  void abort() noexcept;
  bool is_open() const noexcept { return txn_ != nullptr; }
  MDB_txn* handle() const noexcept { return txn_; }

 private:
  explicit Txn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_ = nullptr;
};

// A database handle. A plain value: valid as long as its Env, shared by all threads once the
// transaction that opened it has committed.
class Dbi {
 public:
  // Opens `name` inside `txn`, creating it when `create` (needs a write transaction).
  static Dbi open(const Txn& txn, const char* name, bool create, unsigned flags = 0);
  // Returns nullopt if `name` does not exist.
  static std::optional<Dbi> try_open(const Txn& txn, const char* name, unsigned flags = 0);

  Dbi() = default;
  MDB_dbi handle() const noexcept { return dbi_; }

  // Returns nullopt if `key` is absent. The view is valid until the transaction ends or, in a
  // write transaction, until the next write.
  std::optional<std::string_view> get(const Txn& txn, std::string_view key) const;
  void put(const Txn& txn, std::string_view key, std::string_view value, unsigned flags = 0) const;
  // Returns false (and writes nothing) if `key` already exists.
  [[nodiscard]] bool put_new(const Txn& txn, std::string_view key, std::string_view value) const;
  // Returns false if `key` was absent.
  bool del(const Txn& txn, std::string_view key) const;
  // Removes every entry, keeping the database.
  void clear(const Txn& txn) const;
  // Deletes the database itself (from the environment), and closes this handle.
  void remove(const Txn& txn) const;
  MDB_stat stat(const Txn& txn) const;

 private:
  explicit Dbi(MDB_dbi dbi) : dbi_(dbi) {}
  MDB_dbi dbi_ = 0;
};

// A cursor; must be closed (destroyed) before its write transaction commits.
class Cursor {
 public:
  static Cursor open(const Txn& txn, Dbi dbi);

  Cursor(Cursor&& other) noexcept : cursor_(other.cursor_) { other.cursor_ = nullptr; }
  Cursor& operator=(Cursor&& other) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // Positions the cursor with `op`, filling key and value. Returns false at MDB_NOTFOUND.
  // For MDB_SET / MDB_SET_RANGE / MDB_GET_BOTH*, `key` (and `value`) are inputs too.
  bool get(std::string_view& key, std::string_view& value, MDB_cursor_op op);
  void put(std::string_view key, std::string_view value, unsigned flags = 0);
  void del(unsigned flags = 0);
  void close() noexcept;

 private:
  explicit Cursor(MDB_cursor* cursor) : cursor_(cursor) {}
  MDB_cursor* cursor_ = nullptr;
};

inline MDB_val to_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view to_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

}  // namespace agate::lmdb
