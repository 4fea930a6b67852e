#include "commands/email_reservation.hpp"

#include "infra/crypto/mac.hpp"

namespace realmkit::commands {

user_email_state evolve(user_email_state state, const user_email_event& event) {
  std::visit(domain::overloaded{
                 [&](const user_email_reserved& e) { state.holder = e.user; },
                 [&](const user_email_released& e) {
                   if (state.holder == e.user) state.holder.reset();
                 },
             },
             event);
  return state;
}

std::string email_reservation_id(std::string_view email) {
  return infra::crypto::sha256_hex(domain::rules::normalized_email(email));
}

}  // namespace realmkit::commands
