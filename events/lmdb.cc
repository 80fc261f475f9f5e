#include "events/lmdb.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

namespace agate::lmdb {

namespace {

std::string describe(const char* origin, int code) {
  // mdb_strerror covers LMDB's own codes and falls back to strerror for errno values.
  const char* name = nullptr;
  switch (code) {
    case MDB_MAP_FULL:
      name = "MDB_MAP_FULL";
      break;
    case MDB_TXN_FULL:
      name = "MDB_TXN_FULL";
      break;
    case MDB_READERS_FULL:
      name = "MDB_READERS_FULL";
      break;
    case MDB_DBS_FULL:
      name = "MDB_DBS_FULL";
      break;
    case MDB_KEYEXIST:
      name = "MDB_KEYEXIST";
      break;
    case MDB_NOTFOUND:
      name = "MDB_NOTFOUND";
      break;
    case MDB_CORRUPTED:
      name = "MDB_CORRUPTED";
      break;
    case MDB_PANIC:
      name = "MDB_PANIC";
      break;
    case MDB_VERSION_MISMATCH:
      name = "MDB_VERSION_MISMATCH";
      break;
    case MDB_INVALID:
      name = "MDB_INVALID";
      break;
    case MDB_MAP_RESIZED:
      name = "MDB_MAP_RESIZED";
      break;
    case MDB_BAD_TXN:
      name = "MDB_BAD_TXN";
      break;
    case MDB_BAD_VALSIZE:
      name = "MDB_BAD_VALSIZE";
      break;
    case ENOSPC:
      name = "ENOSPC";
      break;
    default:
      break;
  }
  if (name) return fmt::format("{}: {}: {}", origin, name, mdb_strerror(code));
  return fmt::format("{}: {}", origin, mdb_strerror(code));
}

void check(const char* origin, int rc) {
  if (rc != MDB_SUCCESS) Error::raise(origin, rc);
}

}  // namespace

Error::Error(const char* origin, int code)
    : std::runtime_error(describe(origin, code)), code_(code) {}

void Error::raise(const char* origin, int code) { throw Error(origin, code); }

bool is_out_of_space(const Error& e) noexcept {
  return e.code() == MDB_MAP_FULL || e.code() == ENOSPC || e.code() == EDQUOT;
}

std::string_view to_string(Durability d) {
  switch (d) {
    case Durability::sync:
      return "sync";
    case Durability::nometasync:
      return "nometasync";
    case Durability::nosync:
      return "nosync";
  }
  return "?";
}

std::optional<Durability> parse_durability(std::string_view s) {
  for (auto d : {Durability::sync, Durability::nometasync, Durability::nosync}) {
    if (to_string(d) == s) return d;
  }
  return std::nullopt;
}

// ---- Env ------------------------------------------------------------------------------------

Env Env::open(const std::filesystem::path& dir, const EnvOptions& options) {
  if (!options.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      throw std::system_error(ec, fmt::format("cannot create data directory {}", dir.string()));
    }
  }
  MDB_env* raw = nullptr;
  check("mdb_env_create", mdb_env_create(&raw));
  Env env(raw, dir);
  check("mdb_env_set_mapsize", mdb_env_set_mapsize(raw, options.map_size));
  check("mdb_env_set_maxdbs", mdb_env_set_maxdbs(raw, options.max_dbs));
  check("mdb_env_set_maxreaders", mdb_env_set_maxreaders(raw, options.max_readers));

  // MDB_NOTLS: read transactions belong to their Txn object, not to the thread, so that a
  // thread may hold several (an I/O thread serving many requests).
  unsigned flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (options.durability == Durability::nometasync) flags |= MDB_NOMETASYNC;
  if (options.durability == Durability::nosync) flags |= MDB_NOSYNC;
  const int rc = mdb_env_open(raw, dir.c_str(), flags, 0640);
  if (rc != MDB_SUCCESS) {
    throw Error(fmt::format("mdb_env_open({})", dir.string()).c_str(), rc);
  }

  // Drivers fork and exec programs: they must not inherit the data file.
  mdb_filehandle_t fd = -1;
  if (mdb_env_get_fd(raw, &fd) == MDB_SUCCESS && fd >= 0) {
    const int fd_flags = ::fcntl(fd, F_GETFD);
    if (fd_flags >= 0) ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC);
  }
  return env;
}

Env::Env(Env&& other) noexcept
    : env_(std::exchange(other.env_, nullptr)), path_(std::move(other.path_)) {}

Env& Env::operator=(Env&& other) noexcept {
  if (this != &other) {
    if (env_) mdb_env_close(env_);
    env_ = std::exchange(other.env_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Env::~Env() {
  if (env_) mdb_env_close(env_);
}

std::size_t Env::map_size() const {
  MDB_envinfo info;
  check("mdb_env_info", mdb_env_info(env_, &info));
  return info.me_mapsize;
}

std::size_t Env::used_bytes() const {
  MDB_envinfo info;
  check("mdb_env_info", mdb_env_info(env_, &info));
  MDB_stat stat;
  check("mdb_env_stat", mdb_env_stat(env_, &stat));
  return (info.me_last_pgno + 1) * std::size_t{stat.ms_psize};
}

void Env::sync() { check("mdb_env_sync", mdb_env_sync(env_, 1)); }

// ---- Txn ------------------------------------------------------------------------------------

Txn Txn::begin_read(const Env& env) {
  MDB_txn* txn = nullptr;
  check("mdb_txn_begin(read)", mdb_txn_begin(env.handle(), nullptr, MDB_RDONLY, &txn));
  return Txn(txn);
}

Txn Txn::begin_write(Env& env) {
  MDB_txn* txn = nullptr;
  check("mdb_txn_begin(write)", mdb_txn_begin(env.handle(), nullptr, 0, &txn));
  return Txn(txn);
}

Txn& Txn::operator=(Txn&& other) noexcept {
  if (this != &other) {
    abort();
    txn_ = std::exchange(other.txn_, nullptr);
  }
  return *this;
}

Txn::~Txn() { abort(); }

void Txn::commit() {
  // mdb_txn_commit frees the handle whether or not it succeeds.
  MDB_txn* txn = std::exchange(txn_, nullptr);
  check("mdb_txn_commit", mdb_txn_commit(txn));
}

void Txn::abort() noexcept {
  if (txn_) mdb_txn_abort(std::exchange(txn_, nullptr));
}

// ---- Dbi ------------------------------------------------------------------------------------

Dbi Dbi::open(const Txn& txn, const char* name, bool create, unsigned flags) {
  MDB_dbi dbi = 0;
  const int rc = mdb_dbi_open(txn.handle(), name, flags | (create ? MDB_CREATE : 0u), &dbi);
  if (rc != MDB_SUCCESS) {
    throw Error(fmt::format("mdb_dbi_open({})", name ? name : "main").c_str(), rc);
  }
  return Dbi(dbi);
}

std::optional<Dbi> Dbi::try_open(const Txn& txn, const char* name, unsigned flags) {
  MDB_dbi dbi = 0;
  const int rc = mdb_dbi_open(txn.handle(), name, flags, &dbi);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != MDB_SUCCESS) {
    throw Error(fmt::format("mdb_dbi_open({})", name ? name : "main").c_str(), rc);
  }
  return Dbi(dbi);
}

std::optional<std::string_view> Dbi::get(const Txn& txn, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v{};
  const int rc = mdb_get(txn.handle(), dbi_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check("mdb_get", rc);
  return to_view(v);
}

void Dbi::put(const Txn& txn, std::string_view key, std::string_view value, unsigned flags) const {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  check("mdb_put", mdb_put(txn.handle(), dbi_, &k, &v, flags));
}

bool Dbi::put_new(const Txn& txn, std::string_view key, std::string_view value) const {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  const int rc = mdb_put(txn.handle(), dbi_, &k, &v, MDB_NOOVERWRITE);
  if (rc == MDB_KEYEXIST) return false;
  check("mdb_put", rc);
  return true;
}

bool Dbi::del(const Txn& txn, std::string_view key) const {
  MDB_val k = to_val(key);
  const int rc = mdb_del(txn.handle(), dbi_, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  check("mdb_del", rc);
  return true;
}

void Dbi::clear(const Txn& txn) const { check("mdb_drop", mdb_drop(txn.handle(), dbi_, 0)); }

void Dbi::remove(const Txn& txn) const { check("mdb_drop", mdb_drop(txn.handle(), dbi_, 1)); }

MDB_stat Dbi::stat(const Txn& txn) const {
  MDB_stat s;
  check("mdb_stat", mdb_stat(txn.handle(), dbi_, &s));
  return s;
}

// ---- Cursor ---------------------------------------------------------------------------------

Cursor Cursor::open(const Txn& txn, Dbi dbi) {
  MDB_cursor* cursor = nullptr;
  check("mdb_cursor_open", mdb_cursor_open(txn.handle(), dbi.handle(), &cursor));
  return Cursor(cursor);
}

Cursor& Cursor::operator=(Cursor&& other) noexcept {
  if (this != &other) {
    close();
    cursor_ = std::exchange(other.cursor_, nullptr);
  }
  return *this;
}

Cursor::~Cursor() { close(); }

bool Cursor::get(std::string_view& key, std::string_view& value, MDB_cursor_op op) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  const int rc = mdb_cursor_get(cursor_, &k, &v, op);
  if (rc == MDB_NOTFOUND) return false;
  check("mdb_cursor_get", rc);
  key = to_view(k);
  value = to_view(v);
  return true;
}

void Cursor::put(std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  check("mdb_cursor_put", mdb_cursor_put(cursor_, &k, &v, flags));
}

void Cursor::del(unsigned flags) { check("mdb_cursor_del", mdb_cursor_del(cursor_, flags)); }

void Cursor::close() noexcept {
  if (cursor_) mdb_cursor_close(std::exchange(cursor_, nullptr));
}

}  // namespace agate::lmdb
