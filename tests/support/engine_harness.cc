#include "tests/support/engine_harness.h"

#include <gtest/gtest.h>

namespace agate::testing {

projections::StoreOptions default_store_options() {
  projections::StoreOptions o;
  o.backends = {"nfs1", "nfs2"};
  o.default_backend = "nfs1";
  return o;
}

EngineHarness::EngineHarness(std::uint64_t seed, projections::StoreOptions options,
                             std::size_t map_size)
    : seed_(seed), options_(std::move(options)), map_size_(map_size) {
  open();
}

EngineHarness::~EngineHarness() {
  writer_.reset();
  journal_.reset();
}

void EngineHarness::open() {
  writer_.reset();
  journal_.reset();
  env_.reset();
  lmdb::EnvOptions o;
  o.map_size = map_size_;
  o.durability = lmdb::Durability::nosync;
  env_.emplace(lmdb::Env::open(dir_.path() / "live", o));
  auto log = events::EventLog::open(*env_);
  auto store = projections::Store::open(*env_, options_);
  journal_ = std::make_unique<projections::Journal>(*env_, log, std::move(store));
  if (listener_) journal_->set_commit_listener(listener_);
  if (applied_listener_) journal_->set_applied_listener(applied_listener_);
  writer_ = std::make_unique<engine::Writer>(
      *journal_, engine::make_seeded_ids(seed_), engine::WriterOptions{},
      [this] { return clock_.fetch_add(1000); });
}

void EngineHarness::set_commit_listener(projections::Journal::CommitListener listener) {
  listener_ = std::move(listener);
  journal_->set_commit_listener(listener_);
}

void EngineHarness::set_applied_listener(projections::Journal::AppliedListener listener) {
  applied_listener_ = std::move(listener);
  journal_->set_applied_listener(applied_listener_);
}

void EngineHarness::reopen() {
  seed_ += 1000003;  // new ids after a restart, as a real restart would have
  open();
}

engine::Outcome EngineHarness::run(const engine::Context& ctx, engine::Command command) {
  return writer_->execute(ctx, std::move(command));
}

std::vector<events::Event> EngineHarness::ok(const engine::Context& ctx, engine::Command command) {
  auto outcome = run(ctx, std::move(command));
  EXPECT_TRUE(outcome) << (outcome ? "" : outcome.error().message);
  return outcome ? outcome->events : std::vector<events::Event>{};
}

engine::Rejection EngineHarness::refused(const engine::Context& ctx, engine::Command command) {
  auto outcome = run(ctx, std::move(command));
  EXPECT_FALSE(outcome) << "the command was accepted";
  return outcome ? engine::Rejection{} : outcome.error();
}

namespace {

template <typename T>
const T& body(const std::vector<events::Event>& events) {
  for (const auto& e : events) {
    if (auto* b = std::get_if<T>(&e.body)) return *b;
  }
  throw std::runtime_error("no event of the expected kind");
}

}  // namespace

std::string EngineHarness::create_type(const std::string& name, const std::string& backend) {
  events::Metadata specs{{"driver_handles_share_servers", "False"}};
  if (!backend.empty()) specs["share_backend_name"] = backend;
  return body<events::ShareTypeCreated>(ok(admin(), engine::CreateShareType{name, "", true, specs}))
      .share_type_id;
}

std::string EngineHarness::create_share(const engine::Context& ctx, const std::string& type,
                                        const std::string& name) {
  engine::CreateShare c;
  c.name = name;
  c.share_proto = "NFS";
  c.size_gib = 1;
  c.share_type = type;
  return body<events::ShareCreated>(ok(ctx, c)).share_id;
}

std::string EngineHarness::create_group(const engine::Context& ctx, const std::string& name,
                                        const std::string& type) {
  return body<events::AccessGroupCreated>(ok(ctx, engine::CreateAccessGroup{name, "", type}))
      .group_id;
}

std::string EngineHarness::add_entry(const engine::Context& ctx, const std::string& group,
                                     const std::string& access_to, const std::string& level) {
  return body<events::EntryAdded>(
             ok(ctx, engine::AddEntry{group, std::nullopt, access_to, level}))
      .entry_id;
}

std::string EngineHarness::allow(const engine::Context& ctx, const std::string& share,
                                 const std::string& type, const std::string& access_to,
                                 const std::string& level) {
  return body<events::RuleAllowed>(ok(ctx, engine::AllowAccess{share, type, access_to, level, {}}))
      .rule_id;
}

std::string EngineHarness::attach(const engine::Context& ctx, const std::string& share,
                                  const std::string& group) {
  return body<events::GroupAttached>(ok(ctx, engine::AttachGroup{share, group})).mapping_id;
}

events::Seq EngineHarness::last() {
  auto txn = lmdb::Txn::begin_read(*env_);
  return journal_->log().last(txn);
}

std::string EngineHarness::digest() {
  auto txn = lmdb::Txn::begin_read(*env_);
  return journal_->store().digest(txn);
}

std::string EngineHarness::rebuild_digest() {
  TempDir dir;
  lmdb::EnvOptions o;
  o.map_size = map_size_;
  o.durability = lmdb::Durability::nosync;
  auto target_env = lmdb::Env::open(dir.path(), o);
  auto target = projections::Store::open(target_env, options_);
  projections::rebuild(*env_, journal_->log(), target_env, target);
  auto txn = lmdb::Txn::begin_read(target_env);
  return target.digest(txn);
}

engine::Context EngineHarness::admin() {
  engine::Context c;
  c.project_id = "admin-project";
  c.user_id = "admin";
  c.request_id = "req-admin";
  c.is_admin = true;
  c.version = {2, 45};
  return c;
}

engine::Context EngineHarness::member(const std::string& project, const std::string& user) {
  engine::Context c;
  c.project_id = project;
  c.user_id = user;
  c.request_id = "req-" + user;
  c.version = {2, 45};
  return c;
}

}  // namespace agate::testing
