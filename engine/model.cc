#include "engine/model.h"

#include <stdexcept>

namespace agate::engine {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::bad_request: return "bad request";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not found";
    case errc::conflict: return "conflict";
    case errc::precondition_failed: return "precondition failed";
    case errc::over_limit: return "over limit";
    case errc::out_of_space: return "out of space";
    case errc::unavailable: return "unavailable";
  }
  return "unknown";
}

void throw_exception_from_error(const Rejection& r, const boost::source_location&) {
  throw std::runtime_error(std::string(to_string(r.code)) + ": " + r.message);
}

events::LockContext lock_context_of(const Context& ctx) {
  if (ctx.is_service) return events::LockContext::service;
  if (ctx.is_admin) return events::LockContext::admin;
  return events::LockContext::user;
}

bool context_may_manipulate(const Context& ctx, const LockRow& lock) {
  using events::LockContext;
  const LockContext requester = lock_context_of(ctx);
  if (lock.lock_context == LockContext::admin && requester != LockContext::admin) return false;
  if (lock.lock_context == LockContext::service && requester == LockContext::user) return false;
  return true;
}

bool may_manipulate(const Context& ctx, const LockRow& lock) {
  const bool owner = ctx.user_id == lock.user_id && ctx.project_id == lock.project_id;
  return context_may_manipulate(ctx, lock) && (ctx.is_admin || ctx.is_service || owner);
}

bool access_is_restricted(const Context& ctx, const LockRow& lock) {
  return !may_manipulate(ctx, lock);
}

}  // namespace agate::engine
