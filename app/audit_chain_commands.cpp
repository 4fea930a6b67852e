#include "app/audit_chain_commands.hpp"

#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/user_command.hpp"
#include "infra/audit/chain_verify.hpp"

namespace realmkit::app {
namespace {

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw cli_error(std::string("cannot read the ") + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

infra::timestamp now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// Progress on stderr every few seconds: a million events take a few seconds, a billion a while.
std::function<void(std::int64_t)> progress_to(std::ostream& err, std::int64_t head) {
  auto last = std::chrono::steady_clock::now();
  return [&err, head, last](std::int64_t position) mutable {
    const auto t = std::chrono::steady_clock::now();
    if (t - last < std::chrono::seconds(5)) return;
    last = t;
    err << "verified through position " << position << " of " << head << "\n";
  };
}

void print_report(const infra::audit::verify_report& r, const audit_verify_options& options,
                  std::ostream& out) {
  if (options.json) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("verified");
    w.Bool(r.ok());
    w.Key("head");
    w.Int64(r.head);
    w.Key("checked");
    w.Int64(r.checked);
    w.Key("verified_through");
    w.Int64(r.verified_through);
    w.Key("hash");
    w.String(infra::audit::to_hex(r.last_hash).c_str());
    if (!options.checkpoint_file.empty()) {
      w.Key("checkpoint_matched");
      w.Bool(r.checkpoint_matched);
    }
    w.Key("first_broken");
    if (r.first_break) {
      w.StartObject();
      w.Key("position");
      w.Int64(r.first_break->position);
      w.Key("reason");
      w.String(r.first_break->reason.c_str());
      w.EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
    out << buffer.GetString() << "\n";
    return;
  }
  if (r.first_break) {
    out << "BROKEN at position " << r.first_break->position << ": " << r.first_break->reason << "\n"
        << "the chain holds from position 1 through " << r.verified_through << "\n";
    return;
  }
  out << "the chain holds: " << r.checked << " events, positions 1 through " << r.verified_through
      << ", head hash " << infra::audit::to_hex(r.last_hash) << "\n";
  if (r.checkpoint_matched) out << "and matches the checkpoint at that position or before\n";
}

}  // namespace

int audit_verify(const infra::store_config& store_config, const audit_verify_options& options,
                 std::ostream& out, std::ostream& err) {
  infra::audit::verify_options verify;
  if (!options.checkpoint_file.empty()) {
    infra::audit::checkpoint cp;
    try {
      cp = infra::audit::decode_checkpoint(read_file(options.checkpoint_file, "checkpoint"));
    } catch (const std::invalid_argument& e) {
      throw cli_error("the checkpoint " + options.checkpoint_file + " is malformed: " + e.what());
    }
    if (!infra::audit::signature_valid(cp)) {
      throw cli_error("the checkpoint " + options.checkpoint_file +
                      " does not carry a valid signature: it was changed after signing");
    }
    if (!options.public_key.empty() && options.public_key != infra::audit::to_hex(cp.public_key)) {
      throw cli_error("the checkpoint " + options.checkpoint_file + " is signed by key " +
                      infra::audit::to_hex(cp.public_key) + ", not by " + options.public_key);
    }
    verify.expect = cp;
  } else if (!options.public_key.empty()) {
    throw cli_error("--public-key checks a checkpoint's signer: give --checkpoint too");
  }
  auto store = infra::open_event_store(store_config);
  verify.progress = progress_to(err, store->head_position());
  const auto report = infra::audit::verify_chain(*store, verify);
  print_report(report, options, out);
  const bool ok = report.ok() && (!verify.expect || report.checkpoint_matched);
  spdlog::info("audit verify: {} through position {} of {}", ok ? "the chain holds" : "broken",
               report.verified_through, report.head);
  return ok ? 0 : 1;
}

int audit_checkpoint(const infra::store_config& store_config,
                     const audit_checkpoint_options& options, std::ostream& out,
                     std::ostream& err) {
  if (options.signing_key_file.empty()) throw cli_error("--signing-key is required");
  infra::audit::signing_key key;
  try {
    key = infra::audit::decode_signing_key(read_file(options.signing_key_file, "signing key"));
  } catch (const std::invalid_argument& e) {
    throw cli_error("the signing key " + options.signing_key_file + " is malformed: " + e.what());
  }
  auto store = infra::open_event_store(store_config);
  const auto report =
      infra::audit::verify_chain(*store, {.progress = progress_to(err, store->head_position())});
  if (!report.ok()) {
    err << "realmkit: not signing a broken log: position " << report.first_break->position << ": "
        << report.first_break->reason << "\n";
    return 1;
  }
  const auto cp =
      infra::audit::sign_checkpoint(report.verified_through, report.last_hash, now(), key);
  const auto text = infra::audit::encode_checkpoint(cp) + "\n";
  if (options.out_file.empty()) {
    out << text;
  } else {
    std::ofstream file(options.out_file, std::ios::binary | std::ios::trunc);
    if (!(file << text) || !file.flush()) {
      throw cli_error("cannot write the checkpoint to " + options.out_file);
    }
    out << "checkpoint of position " << cp.position << " written to " << options.out_file << "\n";
  }
  return 0;
}

int audit_keygen(const std::string& out_file, std::ostream& out) {
  if (out_file.empty()) throw cli_error("--out is required: the file to keep the key pair in");
  const auto key = infra::audit::generate_signing_key();
  const auto text = infra::audit::encode_signing_key(key) + "\n";
  // O_EXCL: an existing key is never overwritten (checkpoints signed with it would be orphaned).
  const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw cli_error("cannot create " + out_file + ": " + std::strerror(errno) +
                    (errno == EEXIST ? " (an existing key is never overwritten)" : ""));
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) throw cli_error("cannot write the key pair to " + out_file);
  out << "public key " << infra::audit::to_hex(key.public_key) << "\n";
  return 0;
}

}  // namespace realmkit::app
