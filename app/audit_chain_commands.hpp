// `realmkit audit verify | checkpoint | keygen`: the auditors' tools for the log's hash chain
// (infra/audit/). verify recomputes every link and names the first broken one; checkpoint signs
// the verified head so that a later verify can prove nothing before it changed; keygen makes the
// Ed25519 key pair that signs checkpoints.
#pragma once

#include <iosfwd>
#include <string>

#include "infra/store_factory.hpp"

namespace realmkit::app {

struct audit_verify_options {
  std::string checkpoint_file;  // a checkpoint the log must still match
  std::string public_key;       // hex: the key the checkpoint must be signed with
  bool json = false;            // the report as one JSON object instead of text
};

// Returns 0 when the chain holds (and matches the checkpoint), 1 when it is broken. Throws
// cli_error for an unreadable or malformed checkpoint, a bad signature or an unexpected key.
int audit_verify(const infra::store_config& store, const audit_verify_options& options,
                 std::ostream& out, std::ostream& err);

struct audit_checkpoint_options {
  std::string signing_key_file;  // from `realmkit audit keygen`
  std::string out_file;          // empty: standard output
};

// Verifies the whole log first (a broken log is not signed: returns 1), then writes the signed
// checkpoint of its head.
int audit_checkpoint(const infra::store_config& store, const audit_checkpoint_options& options,
                     std::ostream& out, std::ostream& err);

// Writes a new key pair to `out_file` (mode 0600, never over an existing file) and prints the
// public key, which auditors pin with `audit verify --public-key`.
int audit_keygen(const std::string& out_file, std::ostream& out);

}  // namespace realmkit::app
