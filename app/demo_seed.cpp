#include "app/demo_seed.hpp"

#include <array>
#include <ostream>
#include <stdexcept>
#include <vector>

#include "app/user_command.hpp"
#include "commands/crm_commands.hpp"
#include "commands/email_reservation.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/crypto/random.hpp"
#include "infra/ids.hpp"

namespace realmkit::app {
namespace {

using namespace std::chrono_literals;
using domain::user_role;

constexpr std::string_view kDomain = "@demo.realmkit.test";

struct demo_user {
  const char* key;  // the name its id derives from
  const char* name;
  const char* local;  // the address is local + kDomain
  user_role role;
  const char* team;  // a team key, or nullptr
};

constexpr std::array<demo_user, 7> kUsers{{
    {"user/admin", "Ada Admin", "admin", user_role::admin, nullptr},
    {"user/nora", "Nora North", "nora.manager", user_role::manager, "team/north"},
    {"user/ned", "Ned Norris", "ned.rep", user_role::sales_rep, "team/north"},
    {"user/sam", "Sam South", "sam.manager", user_role::manager, "team/south"},
    {"user/sia", "Sia Santos", "sia.rep", user_role::sales_rep, "team/south"},
    {"user/ana", "Ana Lytics", "ana.analyst", user_role::analyst, "team/north"},
    {"user/aud", "Otto Auditor", "otto.auditor", user_role::auditor, "team/south"},
}};

struct demo_stage {
  const char* key;
  const char* name;
  int probability;
};
constexpr std::array<demo_stage, 5> kStages{{{"stage/lead", "Lead", 10},
                                             {"stage/qualified", "Qualified", 25},
                                             {"stage/proposal", "Proposal", 50},
                                             {"stage/negotiation", "Negotiation", 75},
                                             {"stage/closing", "Closing", 90}}};

struct demo_company {
  const char* key;
  const char* name;
  const char* web;
  const char* industry;
  const char* owner;  // a user key
};
constexpr std::array<demo_company, 4> kCompanies{{
    {"company/acme", "Acme Corporation", "acme.example", "Manufacturing", "user/ned"},
    {"company/globex", "Globex", "globex.example", "Energy", "user/nora"},
    {"company/initech", "Initech", "initech.example", "Software", "user/sia"},
    {"company/umbrella", "Umbrella Health", "umbrella.example", "Healthcare", "user/sam"},
}};

struct demo_contact {
  const char* key;
  const char* first;
  const char* last;
  const char* title;
  const char* company;
};
constexpr std::array<demo_contact, 8> kContacts{{
    {"contact/wile", "Wile", "Coyote", "Head of Procurement", "company/acme"},
    {"contact/road", "Rhoda", "Runner", "CFO", "company/acme"},
    {"contact/hank", "Hank", "Scorpio", "CEO", "company/globex"},
    {"contact/frank", "Frank", "Grimes", "Operations Lead", "company/globex"},
    {"contact/bill", "Bill", "Lumbergh", "Division VP", "company/initech"},
    {"contact/milton", "Milton", "Waddams", "Facilities", "company/initech"},
    {"contact/alice", "Alice", "Abernathy", "Chief Medical Officer", "company/umbrella"},
    {"contact/albert", "Albert", "Wesker", "Head of Research", "company/umbrella"},
}};

struct demo_lead {
  const char* key;
  const char* name;
  const char* email;
  const char* company;
  domain::lead_source source;
  const char* owner;
  bool qualify;
};
constexpr std::array<demo_lead, 4> kLeads{{
    {"lead/pat", "Pat Prospect", "pat@soylent.example", "Soylent", domain::lead_source::web,
     "user/ned", true},
    {"lead/quinn", "Quinn Query", "quinn@hooli.example", "Hooli", domain::lead_source::referral,
     "user/nora", false},
    {"lead/rosa", "Rosa Request", "rosa@vandelay.example", "Vandelay Industries",
     domain::lead_source::event, "user/sia", true},
    {"lead/stan", "Stan Signup", "stan@wonka.example", "Wonka", domain::lead_source::cold_call,
     "user/sam", false},
}};

enum class outcome { open, won, lost };
struct demo_deal {
  const char* key;
  const char* title;
  std::int64_t amount_minor;
  const char* stage;
  const char* company;
  const char* contact;
  const char* owner;
  int close_in_days;
  outcome result;
};
constexpr std::array<demo_deal, 10> kDeals{{
    {"deal/acme-anvils", "Anvils, 500 units", 1'250'000, "stage/lead", "company/acme",
     "contact/wile", "user/ned", 60, outcome::open},
    {"deal/acme-rockets", "Rocket skates renewal", 4'800'000, "stage/proposal", "company/acme",
     "contact/road", "user/ned", 30, outcome::open},
    {"deal/globex-grid", "Grid analytics pilot", 9'900'000, "stage/qualified", "company/globex",
     "contact/hank", "user/nora", 45, outcome::open},
    {"deal/globex-ops", "Operations suite", 15'000'000, "stage/negotiation", "company/globex",
     "contact/frank", "user/nora", 14, outcome::open},
    {"deal/globex-support", "Premium support", 2'400'000, "stage/closing", "company/globex",
     "contact/hank", "user/ned", 7, outcome::won},
    {"deal/initech-tps", "TPS report automation", 3'600'000, "stage/proposal", "company/initech",
     "contact/bill", "user/sia", 21, outcome::open},
    {"deal/initech-staplers", "Stapler fleet", 180'000, "stage/lead", "company/initech",
     "contact/milton", "user/sia", 90, outcome::lost},
    {"deal/umbrella-lab", "Lab data platform", 22'000'000, "stage/negotiation", "company/umbrella",
     "contact/albert", "user/sam", 20, outcome::open},
    {"deal/umbrella-clinic", "Clinic scheduling", 6'500'000, "stage/qualified", "company/umbrella",
     "contact/alice", "user/sia", 40, outcome::open},
    {"deal/umbrella-audit", "Compliance audit", 1'200'000, "stage/closing", "company/umbrella",
     "contact/alice", "user/sam", 5, outcome::open},
}};

struct demo_activity {
  const char* key;
  domain::activity_type type;
  domain::entity_kind kind;
  const char* subject;
  const char* summary;
  const char* owner;
  int hours_ago;
  std::optional<int> minutes;
};
const std::array<demo_activity, 6> kActivities{{
    {"activity/1", domain::activity_type::call, domain::entity_kind::deal, "deal/acme-rockets",
     "Walked Rhoda through the renewal terms", "user/ned", 26, 30},
    {"activity/2", domain::activity_type::email, domain::entity_kind::contact, "contact/wile",
     "Sent the anvil spec sheet", "user/ned", 50, std::nullopt},
    {"activity/3", domain::activity_type::meeting, domain::entity_kind::deal, "deal/globex-ops",
     "Negotiation with Globex procurement", "user/nora", 4, 90},
    {"activity/4", domain::activity_type::note, domain::entity_kind::company, "company/initech",
     "Budget freezes in Q4; push for signature before", "user/sia", 72, std::nullopt},
    {"activity/5", domain::activity_type::call, domain::entity_kind::deal, "deal/umbrella-lab",
     "Technical deep dive with the research team", "user/sam", 8, 60},
    {"activity/6", domain::activity_type::meeting, domain::entity_kind::lead, "lead/rosa",
     "Met Rosa at the trade fair", "user/sia", 120, 20},
}};

struct demo_task {
  const char* key;
  const char* title;
  const char* assignee;
  domain::entity_kind kind;
  const char* link;
  int due_in_days;
  domain::task_priority priority;
  bool done;
};
constexpr std::array<demo_task, 6> kTasks{{
    {"task/1", "Send the revised rocket skates quote", "user/ned", domain::entity_kind::deal,
     "deal/acme-rockets", 2, domain::task_priority::high, false},
    {"task/2", "Book the Globex contract review", "user/nora", domain::entity_kind::deal,
     "deal/globex-ops", 1, domain::task_priority::high, false},
    {"task/3", "Follow up with Quinn", "user/nora", domain::entity_kind::lead, "lead/quinn", 3,
     domain::task_priority::normal, false},
    {"task/4", "Prepare the TPS demo", "user/sia", domain::entity_kind::deal, "deal/initech-tps", 5,
     domain::task_priority::normal, false},
    {"task/5", "Collect the security questionnaire", "user/sam", domain::entity_kind::deal,
     "deal/umbrella-lab", 4, domain::task_priority::high, false},
    {"task/6", "Welcome call with Globex support", "user/ned", domain::entity_kind::deal,
     "deal/globex-support", -1, domain::task_priority::low, true},
}};

class seeder {
 public:
  seeder(infra::event_store& store, const demo_options& options, std::ostream& out)
      : handler_(store), options_(options), out_(out) {
    meta_.actor = domain::user_id{demo_id("user/admin")};
    meta_.now = now();
    meta_.correlation_id = infra::new_uuid_v7();
  }

  demo_summary run() {
    // Teams first (a user joins an existing team), their managers once the users exist.
    seed_teams();
    seed_users();
    assign_managers();
    seed_pipeline();
    seed_companies_and_contacts();
    seed_leads();
    seed_deals();
    seed_activities_and_tasks();
    return summary_;
  }

 private:
  static domain::timestamp now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }

  // Creates the aggregate unless its stream exists. True when created.
  template <class Aggregate, class Command>
  bool create(std::string_view key, const Command& command) {
    if (handler_.load<Aggregate>(demo_id(key)).version > 0) {
      ++summary_.existing;
      return false;
    }
    check(key, commands::execute(handler_, command, meta_));
    ++summary_.created;
    return true;
  }

  template <class Command>
  void follow_up(std::string_view key, const Command& command) {
    check(key, commands::execute(handler_, command, meta_));
  }

  static void check(std::string_view key, const commands::outcome& done) {
    if (done.ok()) return;
    throw std::runtime_error("demo: " + std::string(key) + " refused: " +
                             (done.error().field.empty() ? "" : done.error().field + " ") +
                             done.error().reason);
  }

  static std::optional<domain::team_id> team_of(const char* key) {
    if (!key) return std::nullopt;
    return domain::team_id{demo_id(key)};
  }

  void seed_users() {
    const infra::crypto::password_hasher hasher(options_.argon2);
    if (!options_.password.empty()) {
      if (const auto r = infra::crypto::check_password_policy(options_.password, "password")) {
        throw cli_error("--password " + r->reason);
      }
    }
    out_ << "Demo users (sign in at POST /api/auth/login):\n";
    for (const auto& u : kUsers) {
      const std::string email = std::string(u.local) + std::string(kDomain);
      const auto id = demo_id(u.key);
      const auto holder =
          handler_.load<commands::user_email_aggregate>(commands::email_reservation_id(email))
              .state.holder;
      if (holder) {
        ++summary_.existing;
        out_ << "  " << email << "  " << domain::to_string(u.role) << "  (exists"
             << (holder->value == id ? "" : ", not a demo user") << "; password unchanged)\n";
        continue;
      }
      const auto password =
          options_.password.empty() ? infra::crypto::random_token(12) : options_.password;
      domain::register_user c;
      c.user = domain::user_id{id};
      c.email = email;
      c.display_name = u.name;
      c.role = u.role;
      c.team = team_of(u.team);
      c.password_hash = hasher.hash(password);
      if (create<domain::user_aggregate>(u.key, domain::user_command{c})) {
        out_ << "  " << email << "  " << domain::to_string(u.role) << "  password: " << password
             << "\n";
      }
    }
  }

  static constexpr std::array<std::pair<const char*, const char*>, 2> kTeams{
      {{"team/north", "North"}, {"team/south", "South"}}};

  void seed_teams() {
    for (const auto& [key, name] : kTeams) {
      create<domain::team_aggregate>(
          key, domain::team_command{domain::create_team{domain::team_id{demo_id(key)}, name, {}}});
    }
  }

  // The first manager of each team's users leads it, unless the team has a manager already.
  void assign_managers() {
    for (const auto& [key, name] : kTeams) {
      const domain::team_id team{demo_id(key)};
      if (handler_.load<domain::team_aggregate>(team.value).state.manager) continue;
      for (const auto& u : kUsers) {
        if (u.role != user_role::manager || !u.team || std::string_view(u.team) != key) continue;
        const domain::user_id manager{demo_id(u.key)};
        if (!handler_.load<domain::user_aggregate>(manager.value).state.exists) break;
        follow_up(key, domain::team_command{domain::assign_team_manager{team, manager}});
        ++summary_.created;
        break;
      }
    }
  }

  void seed_pipeline() {
    domain::create_pipeline c;
    c.pipeline = domain::pipeline_id{demo_id("pipeline/sales")};
    c.name = "Sales";
    for (const auto& s : kStages) {
      c.stages.push_back({domain::stage_id{demo_id(s.key)}, s.name, s.probability});
    }
    create<domain::pipeline_aggregate>("pipeline/sales", domain::pipeline_command{c});
  }

  void seed_companies_and_contacts() {
    for (const auto& co : kCompanies) {
      domain::create_company c;
      c.company = domain::company_id{demo_id(co.key)};
      c.name = co.name;
      c.domain = co.web;
      c.industry = co.industry;
      c.size = domain::company_size::s201_500;
      c.owner = domain::user_id{demo_id(co.owner)};
      create<domain::company_aggregate>(co.key, domain::company_command{c});
    }
    for (const auto& p : kContacts) {
      const char* owner = nullptr;
      for (const auto& co : kCompanies) {
        if (std::string_view(co.key) == p.company) owner = co.owner;
      }
      domain::create_contact c;
      c.contact = domain::contact_id{demo_id(p.key)};
      c.first_name = p.first;
      c.last_name = p.last;
      std::string address = std::string(p.first) + "." + p.last + "@" +
                            std::string(p.company).substr(std::string_view("company/").size()) +
                            ".example";
      for (auto& ch : address) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.emails.push_back({address, true});
      c.title = p.title;
      c.company = domain::company_id{demo_id(p.company)};
      c.owner = domain::user_id{demo_id(owner)};
      create<domain::contact_aggregate>(p.key, domain::contact_command{c});
    }
  }

  void seed_leads() {
    for (const auto& l : kLeads) {
      domain::create_lead c;
      c.lead = domain::lead_id{demo_id(l.key)};
      c.name = l.name;
      c.email = l.email;
      c.company_name = l.company;
      c.source = l.source;
      c.owner = domain::user_id{demo_id(l.owner)};
      if (create<domain::lead_aggregate>(l.key, domain::lead_command{c}) && l.qualify) {
        follow_up(l.key, domain::lead_command{domain::mark_lead_contacted{c.lead}});
        follow_up(l.key, domain::lead_command{domain::qualify_lead{c.lead}});
      }
    }
  }

  void seed_deals() {
    const auto today = std::chrono::floor<std::chrono::days>(meta_.now);
    for (const auto& d : kDeals) {
      domain::create_deal c;
      c.deal = domain::deal_id{demo_id(d.key)};
      c.pipeline = domain::pipeline_id{demo_id("pipeline/sales")};
      c.stage = domain::stage_id{demo_id(d.stage)};
      c.title = d.title;
      c.value = domain::money{d.amount_minor, "EUR"};
      c.owner = domain::user_id{demo_id(d.owner)};
      c.company = domain::company_id{demo_id(d.company)};
      c.contacts.push_back(domain::contact_id{demo_id(d.contact)});
      c.expected_close_date = domain::date{today + std::chrono::days{d.close_in_days}};
      if (!create<domain::deal_aggregate>(d.key, domain::deal_command{c})) continue;
      if (d.result == outcome::won) {
        follow_up(d.key, domain::deal_command{domain::win_deal{c.deal}});
      } else if (d.result == outcome::lost) {
        follow_up(d.key,
                  domain::deal_command{domain::lose_deal{c.deal, "Went with a cheaper vendor"}});
      }
    }
  }

  void seed_activities_and_tasks() {
    for (const auto& a : kActivities) {
      domain::log_activity c;
      c.activity = domain::activity_id{demo_id(a.key)};
      c.type = a.type;
      c.subject = domain::entity_ref{a.kind, demo_id(a.subject)};
      c.summary = a.summary;
      c.occurred_at = meta_.now - std::chrono::hours{a.hours_ago};
      c.duration_minutes = a.minutes;
      c.owner = domain::user_id{demo_id(a.owner)};
      create<domain::activity_aggregate>(a.key, domain::activity_command{c});
    }
    for (const auto& t : kTasks) {
      domain::create_task c;
      c.task = domain::task_id{demo_id(t.key)};
      c.title = t.title;
      c.assignee = domain::user_id{demo_id(t.assignee)};
      c.due_at = meta_.now + std::chrono::days{t.due_in_days};
      c.link = domain::entity_ref{t.kind, demo_id(t.link)};
      c.priority = t.priority;
      if (create<domain::task_aggregate>(t.key, domain::task_command{c}) && t.done) {
        follow_up(t.key, domain::task_command{domain::complete_task{c.task}});
      }
    }
  }

  commands::command_handler handler_;
  const demo_options& options_;
  std::ostream& out_;
  commands::command_metadata meta_;
  demo_summary summary_;
};

}  // namespace

std::string demo_id(std::string_view name) {
  // The first 128 bits of SHA-256("realmkit-demo/" + name), with the version and variant bits
  // of a version 8 UUID.
  auto hex = infra::crypto::sha256_hex("realmkit-demo/" + std::string(name)).substr(0, 32);
  hex[12] = '8';
  static constexpr char kVariant[] = "89ab";
  hex[16] = kVariant[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

demo_summary seed_demo(infra::event_store& store, const demo_options& options, std::ostream& out) {
  return seeder(store, options, out).run();
}

}  // namespace realmkit::app
