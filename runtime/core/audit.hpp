#pragma once

// The audit trail: one stream of records saying who or what did what to
// which subject, with which outcome, and when. Components append through the
// store (one write_op, often in the same batch as the change it records);
// GET /api/v1/audit reads it. Records never carry secrets or request bodies.

#include "runtime/store/store_backend.hpp"

#include <cstdint>
#include <string>

namespace streamb {

/// The stream (under the store's prefix) that holds the audit trail.
constexpr const char* audit_stream = "audit";

struct audit_record {
  std::string id; // the stream entry ID; empty until stored
  int64_t at_ms = 0;
  std::string node;    // the node that wrote it
  std::string who;     // "node", "operator:<token name>", "agent:<name>", ...
  std::string action;  // "node.start", "config.rollback", "webhook.reject", ...
  std::string subject; // what it was done to
  std::string outcome; // "ok", "denied", "failed", a reason code, ...
  std::string detail;  // free text for the operator; no secrets
};

/// The XADD of `x`, trimming records older than `retention_ms` before
/// `x.at_ms`.
store::write_op audit_write(const audit_record& x, int64_t retention_ms);

/// The record of a stream entry; missing fields stay empty.
audit_record audit_from_entry(const store::stream_entry& entry);

} // namespace streamb
