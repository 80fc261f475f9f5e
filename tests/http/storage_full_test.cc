// The LMDB map or the disk full, over HTTP: writes are answered 507 with a clear message and
// change nothing, reads keep working, the data stays whole, and once there is room again (a
// larger map on restart; space freed on the disk, without a restart) the same writes succeed.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>

#include "events/event_log.h"
#include "events/lmdb.h"
#include "projections/rebuild.h"
#include "projections/store.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using testing::http_request;
using testing::ServerProcess;

const std::filesystem::path kAgated = AGATE_AGATED_PATH;

const std::vector<std::pair<std::string, std::string>> kHeaders = {
    {"X-Auth-Token", "alice:project-a"},
    {"X-OpenStack-Manila-API-Version", "2.45"},
    {"Content-Type", "application/json"}};

std::string entry_body(int i) {
  // A long user name, so that the map fills after a few thousand entries.
  return R"({"entry": {"access_to": "user_)" + std::to_string(i) + std::string(200, 'x') +
         R"(", "access_level": "ro"}})";
}

std::uint64_t last_seq(unsigned short port) {
  auto res = http_request(port, bhttp::verb::get, "/healthz");
  return json::parse(res.body()).at("log").at("last_seq").to_number<std::uint64_t>();
}

// Creates a user access group; returns its entries' path.
std::string create_group(unsigned short port, std::string& group) {
  auto created = http_request(port, bhttp::verb::post, "/v2/access-groups",
                              R"({"access-group": {"name": "g", "access_type": "user"}})",
                              kHeaders);
  EXPECT_EQ(created.result_int(), 200u) << created.body();
  group = json::parse(created.body()).at("access-group").at("id").as_string().c_str();
  return "/v2/access-groups/" + group + "/entries";
}

// Adds entries (numbered from `first`) until one is answered 507; returns that answer, or
// nullopt if none was within `limit` or a write failed otherwise. Counts the accepted ones.
std::optional<testing::HttpResponse> fill(unsigned short port, const std::string& entries,
                                          int first, int limit, int& added) {
  for (int i = first; i < first + limit; ++i) {
    auto res = http_request(port, bhttp::verb::post, entries, entry_body(i), kHeaders);
    if (res.result_int() == 507) return res;
    EXPECT_LT(res.result_int(), 300u) << res.body();
    if (res.result_int() >= 300) return std::nullopt;
    ++added;
  }
  return std::nullopt;
}

// Writes (numbered from `first`) until `wanted` are refused with 507, each refusal checked to
// leave the log as it was. Room is not all gone at the first 507: pages that readers still held
// then may be reused later, so a write may still fit now and then; those are counted in
// `added`. Returns how many were refused.
int refuse(unsigned short port, const std::string& entries, int first, int wanted, int& added) {
  int refused = 0;
  for (int i = first; i < first + 200 && refused < wanted; ++i) {
    const auto seq = last_seq(port);
    const auto status =
        http_request(port, bhttp::verb::post, entries, entry_body(i), kHeaders).result_int();
    if (status == 507) {
      ++refused;
      EXPECT_EQ(last_seq(port), seq) << "a refused write changed the log";
    } else {
      EXPECT_LT(status, 300u);
      ++added;
    }
  }
  return refused;
}

TEST(StorageFull, WritesAre507ReadsGoOnAndARestartWithMoreRoomWritesAgain) {
  testing::TempDir dir;
  const auto data = dir.path() / "data";
  std::string group;
  int added = 0;
  {
    ServerProcess server(kAgated, data, {"--map-size", "1MiB", "--durability", "nosync"});
    const std::string entries = create_group(server.port(), group);
    const auto full = fill(server.port(), entries, 0, 20000, added);
    ASSERT_TRUE(full) << "the map never filled";
    ASSERT_GT(added, 10);
    const auto fault = json::parse(full->body()).as_object();
    ASSERT_EQ(fault.size(), 1u) << full->body();
    const auto& error = fault.begin()->value().as_object();
    EXPECT_EQ(error.at("code"), 507);
    EXPECT_NE(std::string(error.at("message").as_string()).find("storage is full"),
              std::string::npos)
        << full->body();

    // Refused writes change nothing, again and again; reads are served.
    EXPECT_EQ(refuse(server.port(), entries, 100000, 5, added), 5);
    auto show =
        http_request(server.port(), bhttp::verb::get, "/v2/access-groups/" + group, "", kHeaders);
    ASSERT_EQ(show.result_int(), 200u);
    EXPECT_EQ(json::parse(show.body()).at("access-group").at("entry_count"), added);
    EXPECT_EQ(server.stop(), 0);
  }

  {
    // Whole: the projections equal a rebuild from the log.
    lmdb::EnvOptions o;
    o.durability = lmdb::Durability::nosync;
    auto env = lmdb::Env::open(data, o);
    auto log = events::EventLog::open(env);
    projections::StoreOptions options;
    options.backends = {"default"};
    options.default_backend = "default";
    auto store = projections::Store::open(env, options);
    std::string live;
    {
      auto txn = lmdb::Txn::begin_read(env);
      live = store.digest(txn);
    }
    testing::TempDir rebuilt;
    lmdb::EnvOptions big = o;
    big.map_size = 64u << 20;
    auto target_env = lmdb::Env::open(rebuilt.path(), big);
    auto target = projections::Store::open(target_env, options);
    projections::rebuild(env, log, target_env, target);
    auto txn = lmdb::Txn::begin_read(target_env);
    EXPECT_EQ(target.digest(txn), live);
  }

  // More room: the write refused before now succeeds, and everything written before is there.
  ServerProcess server(kAgated, data, {"--map-size", "8MiB", "--durability", "nosync"});
  auto res = http_request(server.port(), bhttp::verb::post,
                          "/v2/access-groups/" + group + "/entries", entry_body(300000), kHeaders);
  EXPECT_LT(res.result_int(), 300u) << res.body();
  auto show =
      http_request(server.port(), bhttp::verb::get, "/v2/access-groups/" + group, "", kHeaders);
  EXPECT_EQ(json::parse(show.body()).at("access-group").at("entry_count"), added + 1);
}

// A small tmpfs mounted on a directory for the life of the object (root only).
class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& at, const char* size) : at_(at) {
    std::filesystem::create_directories(at);
    const std::string options = std::string("size=") + size;
    mounted_ = ::geteuid() == 0 && ::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
};

TEST(StorageFull, AFullDiskIs507AndFreeingSpaceWritesAgainWithoutARestart) {
  testing::TempDir dir;
  const auto data = dir.path() / "data";
  SmallDisk disk(data, "6m");
  if (!disk.mounted()) GTEST_SKIP() << "needs root and tmpfs to make a small disk";
  // Something to free later: a third of the disk.
  const auto filler = data / "filler";
  {
    std::ofstream out(filler, std::ios::binary);
    const std::string block(1 << 20, 'f');
    for (int i = 0; i < 2; ++i) out << block;
  }
  std::string group;
  int added = 0;
  {
    // The map is far larger than the disk: the disk fills first.
    ServerProcess server(kAgated, data, {"--map-size", "256MiB", "--durability", "nosync"});
    const std::string entries = create_group(server.port(), group);
    const auto full = fill(server.port(), entries, 0, 100000, added);
    ASSERT_TRUE(full) << "the disk never filled";
    EXPECT_NE(full->body().find("storage is full"), std::string::npos) << full->body();
    EXPECT_EQ(refuse(server.port(), entries, 150000, 3, added), 3);
    auto show =
        http_request(server.port(), bhttp::verb::get, "/v2/access-groups/" + group, "", kHeaders);
    ASSERT_EQ(show.result_int(), 200u);
    EXPECT_EQ(json::parse(show.body()).at("access-group").at("entry_count"), added);

    // Space freed: the next write goes through, with no restart.
    std::filesystem::remove(filler);
    auto again =
        http_request(server.port(), bhttp::verb::post, entries, entry_body(200000), kHeaders);
    EXPECT_LT(again.result_int(), 300u) << again.body();
    show =
        http_request(server.port(), bhttp::verb::get, "/v2/access-groups/" + group, "", kHeaders);
    EXPECT_EQ(json::parse(show.body()).at("access-group").at("entry_count"), added + 1);
    EXPECT_EQ(server.stop(), 0);
  }
  // And it reopens whole.
  ServerProcess server(kAgated, data, {"--map-size", "256MiB", "--durability", "nosync"});
  auto show =
      http_request(server.port(), bhttp::verb::get, "/v2/access-groups/" + group, "", kHeaders);
  EXPECT_EQ(json::parse(show.body()).at("access-group").at("entry_count"), added + 1);
}

}  // namespace
}  // namespace agate
