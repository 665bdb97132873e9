// Status and Result<T>: errors as values inside hearsay (leveldb style).
//
// Every fallible function at a module boundary returns a [[nodiscard]] Status or Result<T>. Only
// apps/ turns them into messages and exit codes. A Status message is written for the user: it
// names what was wrong and where ("ring.yaml:12:5: row 3 of weights sums to 0.98; rows must sum
// to 1").
//
// Thread-safety: value types; no shared state.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hearsay {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input: flags, files, specs
  kNotFound,         // a file, peer or key that does not exist
  kCorruption,       // bytes that fail validation (frames, codec payloads)
  kFailedPrecondition,
  kUnavailable,       // peer unreachable, connection lost (retry may help)
  kDeadlineExceeded,  // a wait ran past its deadline
  kCancelled,         // stop requested (SIGTERM, Ctrl-C, a failed sibling)
  kUnimplemented,
  kInternal,
  kAborted,  // the computation stopped on its own terms: training diverged (non-finite loss)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message"
  std::string ToString() const;
  // Returns a copy whose message is "prefix: message" (keeps the code). Ok stays Ok.
  Status WithPrefix(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }

// Result<T>: either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result constructed from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace hearsay

#define HEARSAY_CONCAT_INNER(a, b) a##b
#define HEARSAY_CONCAT(a, b) HEARSAY_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not ok.
#define HEARSAY_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::hearsay::Status _hs_status = (expr);   \
    if (!_hs_status.ok()) return _hs_status; \
  } while (0)

// HEARSAY_ASSIGN_OR_RETURN(auto x, MakeX()); declares x or returns the error.
#define HEARSAY_ASSIGN_OR_RETURN(lhs, rexpr)               \
  auto HEARSAY_CONCAT(_hs_result_, __LINE__) = (rexpr);    \
  if (!HEARSAY_CONCAT(_hs_result_, __LINE__).ok())         \
    return HEARSAY_CONCAT(_hs_result_, __LINE__).status(); \
  lhs = std::move(HEARSAY_CONCAT(_hs_result_, __LINE__)).value()
