#include "tests/fuzz/fuzz_api.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace agate::fuzz {

namespace {

std::unique_ptr<FuzzApi> make() {
  // One access-log line per request would cost more than the request itself.
  spdlog::set_level(spdlog::level::off);
  auto f = std::make_unique<FuzzApi>();
  auto& e = f->api.engine();
  const auto alice = testing::EngineHarness::member("project-a");
  e.create_type("default");
  f->share_id = e.create_share(alice);
  f->group_id = e.create_group(alice, "web");
  f->entry_id = e.add_entry(alice, f->group_id, "10.0.0.0/24");
  e.attach(alice, f->share_id, f->group_id);
  f->rule_id = e.allow(alice, f->share_id, "ip", "10.9.0.0/16", "ro");
  return f;
}

[[noreturn]] void fail(const http::Request& req, const http::Response& res, const char* what) {
  std::fprintf(stderr, "%s\n--- request: %s %s\n%.2000s\n--- answer: %u\n%.2000s\n", what,
               std::string(req.method_string()).c_str(), std::string(req.target()).c_str(),
               req.body().c_str(), res.result_int(), res.body().c_str());
  std::abort();
}

}  // namespace

FuzzApi& fuzz_api() {
  // Destroyed at exit, which removes its temporary directory.
  static const std::unique_ptr<FuzzApi> api = make();
  return *api;
}

void check_response(const http::Request& req, const http::Response& res) {
  const unsigned status = res.result_int();
  if (status == 500) fail(req, res, "a 500: an exception escaped a handler");
  if (res.body().empty()) return;
  boost::system::error_code ec;
  const auto body = boost::json::parse(res.body(), ec);
  if (ec) fail(req, res, "an answer that is not JSON (or not UTF-8)");
  if (status < 400) return;
  if (!body.is_object() || body.as_object().size() != 1) {
    fail(req, res, "an error body that is not Manila's");
  }
  const auto& fault = body.as_object().begin()->value();
  const auto* code = fault.is_object() ? fault.as_object().if_contains("code") : nullptr;
  const auto* message = fault.is_object() ? fault.as_object().if_contains("message") : nullptr;
  if (!code || !message || !message->is_string() || !code->is_number() ||
      code->to_number<unsigned>() != status) {
    fail(req, res, "an error body that is not Manila's");
  }
}

}  // namespace agate::fuzz
