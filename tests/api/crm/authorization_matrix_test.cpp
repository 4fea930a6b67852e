// The authorization matrix, generated from the router's table: every CRM route × the five roles ×
// a record of the caller's own team and of another team, each cell checked over HTTP on both
// store backends. The expected answer comes from api/auth/permissions.hpp and the scope rules:
// no permission → 403; a team-owned record outside the caller's scope → 404 (lists leave it out);
// the ownership and team-administration rules → 403; otherwise success.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "api/auth/permissions.hpp"
#include "commands/crm_commands.hpp"
#include "infra/ids.hpp"
#include "infra/json/json_time.hpp"
#include "infra/webhooks/webhook_signature.hpp"
#include "infra/webhooks/webhook_store.hpp"
#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

// One cell: who calls (always of team A, or the teamless admin) and whose records they touch.
struct cell {
  user_role role = user_role::sales_rep;
  std::string caller;
  const team_people* target = nullptr;
  bool own_team = false;
};

struct request_spec {
  std::string method;
  std::string path;
  std::string body;
  std::string listed;  // lists: the record that must head the page exactly when it is visible
};

enum class scope_kind {
  team_owned,    // a record owned by a member of the target team
  organisation,  // users, teams, pipelines: the permission decides
  create,        // a new record owned by a member of the target team
};

struct scenario {
  scope_kind scope = scope_kind::team_owned;
  std::function<request_spec(crm_fixture&, const cell&)> make;
  // Refusals beyond permission and scope (team administration): the status, or 0.
  std::function<int(const cell&)> extra;
};

// ---- records seeded through the command side, as the system ----

commands::command_metadata system() {
  commands::command_metadata m;
  m.actor = user_id{"system"};
  m.now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  return m;
}

template <class Command>
void run(crm_fixture& f, Command command) {
  const auto r = commands::execute(f.handler(), command, system());
  INFO((r.ok() ? std::string() : r.error().field + ": " + r.error().reason));
  REQUIRE(r.ok());
}

std::string fresh() {
  return infra::new_uuid_v7();
}

std::string company(crm_fixture& f, const std::string& owner) {
  const auto id = fresh();
  create_company c;
  c.company = company_id{id};
  c.name = "Company";
  c.owner = user_id{owner};
  c.tags = {"t"};
  run(f, company_command{c});
  return id;
}

std::string contact(crm_fixture& f, const std::string& owner) {
  const auto id = fresh();
  create_contact c;
  c.contact = contact_id{id};
  c.last_name = "Contact";
  c.emails = {{id + "@one.example", true}, {id + "@two.example", false}};
  c.phones = {{"+1 555 0100", phone_label::work}};
  c.owner = user_id{owner};
  run(f, contact_command{c});
  return id;
}

std::string lead(crm_fixture& f, const std::string& owner, lead_status reach) {
  const auto id = fresh();
  create_lead c;
  c.lead = lead_id{id};
  c.name = "Lead Person";
  c.company_name = "Lead Co";
  c.owner = user_id{owner};
  run(f, lead_command{c});
  if (reach == lead_status::contacted || reach == lead_status::qualified) {
    run(f, lead_command{mark_lead_contacted{lead_id{id}}});
  }
  if (reach == lead_status::qualified) run(f, lead_command{qualify_lead{lead_id{id}}});
  if (reach == lead_status::disqualified) {
    run(f, lead_command{disqualify_lead{lead_id{id}, "no"}});
  }
  return id;
}

std::string deal(crm_fixture& f, const std::string& owner) {
  const auto id = fresh();
  create_deal c;
  c.deal = deal_id{id};
  c.pipeline = pipeline_id{f.pipeline};
  c.stage = stage_id{f.stages[0]};
  c.title = "Deal";
  c.value = money{100, "EUR"};
  c.owner = user_id{owner};
  run(f, deal_command{c});
  return id;
}

std::string activity(crm_fixture& f, const std::string& owner) {
  const auto id = fresh();
  log_activity c;
  c.activity = activity_id{id};
  c.type = activity_type::note;
  c.subject = {entity_kind::deal, deal(f, owner)};
  c.summary = "Note";
  c.occurred_at = system().now;
  c.owner = user_id{owner};
  run(f, activity_command{c});
  return id;
}

std::string task(crm_fixture& f, const std::string& assignee, bool done = false) {
  const auto id = fresh();
  create_task c;
  c.task = task_id{id};
  c.title = "Task";
  c.assignee = user_id{assignee};
  run(f, task_command{c});
  if (done) run(f, task_command{complete_task{task_id{id}}});
  return id;
}

std::string user(crm_fixture& f, std::optional<std::string> team, bool active = true) {
  const auto id = fresh();
  register_user c;
  c.user = user_id{id};
  c.email = id + "@people.example";
  c.display_name = "Person";
  c.role = user_role::sales_rep;
  if (team) c.team = team_id{*team};
  run(f, user_command{c});
  if (!active) run(f, user_command{deactivate_user{user_id{id}}});
  return id;
}

std::string team(crm_fixture& f) {
  const auto id = fresh();
  run(f, team_command{create_team{team_id{id}, "Team " + id, std::nullopt}});
  return id;
}

struct seeded_pipeline {
  std::string id;
  std::vector<std::string> stages;
};

seeded_pipeline pipeline(crm_fixture& f) {
  seeded_pipeline p{fresh(), {fresh(), fresh()}};
  run(f, pipeline_command{create_pipeline{
             pipeline_id{p.id},
             "Pipeline",
             {{stage_id{p.stages[0]}, "One", 10}, {stage_id{p.stages[1]}, "Two", 20}}}});
  return p;
}

// The owner a create names: the caller's own team's member (the caller; the admin has no team,
// so a rep of A), or a rep of the other team.
std::string owner_for(const crm_fixture& f, const cell& c) {
  if (!c.own_team) return c.target->rep;
  return c.role == user_role::admin ? f.a.rep : c.caller;
}

std::string owner_json(const crm_fixture& f, const cell& c, const char* field = "owner_id") {
  return std::string("\"") + field + "\":" + quoted(owner_for(f, c));
}

// A sales rep or manager may only give a new record to themselves or their team.
int ownership_rule(const cell& c) {
  const bool scoped = c.role == user_role::sales_rep || c.role == user_role::manager;
  return scoped && !c.own_team ? 403 : 0;
}

int admin_only(const cell& c) {
  return c.role == user_role::admin ? 0 : 403;
}

// A manager changes only their own team.
int own_team_only(const cell& c) {
  return c.role == user_role::admin || c.own_team ? 0 : 403;
}

request_spec list_of(const std::string& collection, const std::string& id) {
  return {"GET", collection + "?sort=-created_at&limit=1", "", id};
}

// A webhook subscription, stored directly; and one delivery of the newest event to it.
std::string webhook(crm_fixture& f) {
  infra::webhooks::subscription s;
  s.id = fresh();
  s.url = "https://hooks.example.com/matrix";
  s.event_types = {"*"};
  s.position = f.head();
  s.created_by = f.admin;
  s.created_at = s.updated_at = system().now;
  f.webhooks().create(s, infra::webhooks::new_secret());
  return s.id;
}

std::pair<std::string, std::string> webhook_delivery(crm_fixture& f) {
  const auto id = webhook(f);
  const auto events = f.store().read_all(f.head() - 1, 1);
  REQUIRE(events.size() == 1);
  for (auto cursor : f.webhooks().active_cursors()) {
    if (cursor.id != id) continue;
    cursor.position = f.head() - 1;
    auto moved = *f.webhooks().find(id);
    moved.position = cursor.position;
    REQUIRE(f.webhooks().update(moved));
    const infra::webhooks::new_delivery d{fresh(), &events[0]};
    REQUIRE(f.webhooks().enqueue(cursor, f.head(), std::span(&d, 1), system().now));
    return {id, d.id};
  }
  FAIL("the subscription is not active");
  return {};
}

std::map<std::string, scenario> scenarios() {
  using S = scope_kind;
  using F = crm_fixture;
  const auto rep = [](const cell& c) { return c.target->rep; };
  std::map<std::string, scenario> t;

  // ---- users (organisation) ----
  t["users.list"] = {S::organisation, [](F&, const cell&) {
                       return request_spec{"GET", "/api/users"};
                     }};
  t["users.create"] = {
      S::organisation, [](F&, const cell& c) {
        return request_spec{
            "POST", "/api/users",
            R"({"email":")" + fresh() +
                R"(@new.example","display_name":"New","role":"sales_rep","team_id":")" +
                c.target->team + R"("})"};
      }};
  t["users.get"] = {S::organisation, [](F& f, const cell& c) {
                      return request_spec{"GET", "/api/users/" + user(f, c.target->team)};
                    }};
  t["users.update"] = {S::organisation, [](F& f, const cell& c) {
                         return request_spec{"PATCH", "/api/users/" + user(f, c.target->team),
                                             R"({"display_name":"Renamed"})"};
                       }};
  t["users.set_password"] = {S::organisation, [](F& f, const cell& c) {
                               return request_spec{
                                   "POST", "/api/users/" + user(f, c.target->team) + "/password",
                                   R"({"password":"correct horse battery"})"};
                             }};
  t["users.deactivate"] = {S::organisation, [](F& f, const cell& c) {
                             return request_spec{"DELETE", "/api/users/" + user(f, c.target->team)};
                           }};
  t["users.reactivate"] = {
      S::organisation, [](F& f, const cell& c) {
        return request_spec{"POST", "/api/users/" + user(f, c.target->team, false) + "/reactivate"};
      }};

  // ---- teams (organisation, with team administration rules) ----
  t["teams.list"] = {S::organisation, [](F&, const cell&) {
                       return request_spec{"GET", "/api/teams"};
                     }};
  t["teams.create"] = {S::organisation,
                       [](F&, const cell&) {
                         return request_spec{"POST", "/api/teams", R"({"name":"New team"})"};
                       },
                       admin_only};
  t["teams.get"] = {S::organisation, [](F&, const cell& c) {
                      return request_spec{"GET", "/api/teams/" + c.target->team};
                    }};
  t["teams.update"] = {S::organisation,
                       [](F&, const cell& c) {
                         return request_spec{"PATCH", "/api/teams/" + c.target->team,
                                             R"({"name":"Team )" + fresh() + R"("})"};
                       },
                       own_team_only};
  t["teams.archive"] = {S::organisation,
                        [](F& f, const cell&) {
                          return request_spec{"DELETE", "/api/teams/" + team(f)};
                        },
                        admin_only};
  t["teams.add_member"] = {S::organisation,
                           [](F& f, const cell& c) {
                             return request_spec{
                                 "POST", "/api/teams/" + c.target->team + "/members",
                                 R"({"user_id":")" + user(f, std::nullopt) + R"("})"};
                           },
                           own_team_only};
  t["teams.remove_member"] = {
      S::organisation,
      [](F& f, const cell& c) {
        return request_spec{"DELETE",
                            "/api/teams/" + c.target->team + "/members/" + user(f, c.target->team)};
      },
      own_team_only};

  // ---- pipelines (organisation) ----
  t["pipelines.list"] = {S::organisation, [](F&, const cell&) {
                           return request_spec{"GET", "/api/pipelines"};
                         }};
  t["pipelines.create"] = {S::organisation, [](F&, const cell&) {
                             return request_spec{
                                 "POST", "/api/pipelines",
                                 R"({"name":"New","stages":[{"name":"Only","probability":50}]})"};
                           }};
  t["pipelines.get"] = {S::organisation, [](F& f, const cell&) {
                          return request_spec{"GET", "/api/pipelines/" + f.pipeline};
                        }};
  t["pipelines.update"] = {
      S::organisation, [](F& f, const cell&) {
        return request_spec{"PATCH", "/api/pipelines/" + pipeline(f).id, R"({"name":"Renamed"})"};
      }};
  t["pipelines.archive"] = {S::organisation, [](F& f, const cell&) {
                              return request_spec{"DELETE", "/api/pipelines/" + pipeline(f).id};
                            }};
  t["pipelines.add_stage"] = {S::organisation, [](F& f, const cell&) {
                                return request_spec{"POST",
                                                    "/api/pipelines/" + pipeline(f).id + "/stages",
                                                    R"({"name":"Three","probability":30})"};
                              }};
  t["pipelines.reorder_stages"] = {
      S::organisation, [](F& f, const cell&) {
        const auto p = pipeline(f);
        return request_spec{"PUT", "/api/pipelines/" + p.id + "/stages",
                            R"({"stage_ids":[")" + p.stages[1] + R"(",")" + p.stages[0] + R"("]})"};
      }};
  t["pipelines.update_stage"] = {S::organisation, [](F& f, const cell&) {
                                   const auto p = pipeline(f);
                                   return request_spec{
                                       "PATCH", "/api/pipelines/" + p.id + "/stages/" + p.stages[0],
                                       R"({"probability":15})"};
                                 }};
  t["pipelines.remove_stage"] = {
      S::organisation, [](F& f, const cell&) {
        const auto p = pipeline(f);
        return request_spec{"DELETE", "/api/pipelines/" + p.id + "/stages/" + p.stages[1]};
      }};

  // ---- companies ----
  t["companies.list"] = {S::team_owned, [rep](F& f, const cell& c) {
                           return list_of("/api/companies", company(f, rep(c)));
                         }};
  t["companies.create"] = {
      S::create,
      [](F& f, const cell& c) {
        return request_spec{"POST", "/api/companies", R"({"name":"New",)" + owner_json(f, c) + "}"};
      },
      ownership_rule};
  t["companies.get"] = {S::team_owned, [rep](F& f, const cell& c) {
                          return request_spec{"GET", "/api/companies/" + company(f, rep(c))};
                        }};
  t["companies.update"] = {S::team_owned, [rep](F& f, const cell& c) {
                             return request_spec{"PATCH", "/api/companies/" + company(f, rep(c)),
                                                 R"({"industry":"Tools"})"};
                           }};
  t["companies.archive"] = {S::team_owned, [rep](F& f, const cell& c) {
                              return request_spec{"DELETE", "/api/companies/" + company(f, rep(c))};
                            }};
  t["companies.restore"] = {S::team_owned, [rep](F& f, const cell& c) {
                              const auto id = company(f, rep(c));
                              run(f, company_command{archive_company{company_id{id}}});
                              return request_spec{"POST", "/api/companies/" + id + "/restore"};
                            }};
  t["companies.assign_owner"] = {S::team_owned, [rep](F& f, const cell& c) {
                                   return request_spec{
                                       "POST", "/api/companies/" + company(f, rep(c)) + "/owner",
                                       R"({"owner_id":)" + quoted(c.caller) + "}"};
                                 }};
  t["companies.tag"] = {S::team_owned, [rep](F& f, const cell& c) {
                          return request_spec{"POST",
                                              "/api/companies/" + company(f, rep(c)) + "/tags",
                                              R"({"tags":["new"]})"};
                        }};
  t["companies.untag"] = {S::team_owned, [rep](F& f, const cell& c) {
                            return request_spec{
                                "POST", "/api/companies/" + company(f, rep(c)) + "/tags/remove",
                                R"({"tags":["t"]})"};
                          }};

  // ---- contacts ----
  t["contacts.list"] = {S::team_owned, [rep](F& f, const cell& c) {
                          return list_of("/api/contacts", contact(f, rep(c)));
                        }};
  t["contacts.create"] = {S::create,
                          [](F& f, const cell& c) {
                            return request_spec{"POST", "/api/contacts",
                                                R"({"last_name":"New",)" + owner_json(f, c) + "}"};
                          },
                          ownership_rule};
  t["contacts.get"] = {S::team_owned, [rep](F& f, const cell& c) {
                         return request_spec{"GET", "/api/contacts/" + contact(f, rep(c))};
                       }};
  t["contacts.update"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"PATCH", "/api/contacts/" + contact(f, rep(c)), R"({"title":"Boss"})"};
      }};
  t["contacts.archive"] = {S::team_owned, [rep](F& f, const cell& c) {
                             return request_spec{"DELETE", "/api/contacts/" + contact(f, rep(c))};
                           }};
  t["contacts.erase"] = {S::team_owned, [rep](F& f, const cell& c) {
                           return request_spec{"POST",
                                               "/api/contacts/" + contact(f, rep(c)) + "/erase",
                                               R"({"reason":"request 17"})"};
                         }};
  t["contacts.export"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"GET", "/api/contacts/" + contact(f, rep(c)) + "/export"};
      }};
  t["contacts.restore"] = {S::team_owned, [rep](F& f, const cell& c) {
                             const auto id = contact(f, rep(c));
                             run(f, contact_command{archive_contact{contact_id{id}}});
                             return request_spec{"POST", "/api/contacts/" + id + "/restore"};
                           }};
  t["contacts.assign_owner"] = {S::team_owned, [rep](F& f, const cell& c) {
                                  return request_spec{
                                      "POST", "/api/contacts/" + contact(f, rep(c)) + "/owner",
                                      R"({"owner_id":)" + quoted(c.caller) + "}"};
                                }};
  t["contacts.tag"] = {S::team_owned, [rep](F& f, const cell& c) {
                         return request_spec{"POST",
                                             "/api/contacts/" + contact(f, rep(c)) + "/tags",
                                             R"({"tags":["new"]})"};
                       }};
  t["contacts.untag"] = {S::team_owned, [rep](F& f, const cell& c) {
                           return request_spec{
                               "POST", "/api/contacts/" + contact(f, rep(c)) + "/tags/remove",
                               R"({"tags":["none"]})"};
                         }};
  t["contacts.add_email"] = {S::team_owned, [rep](F& f, const cell& c) {
                               return request_spec{
                                   "POST", "/api/contacts/" + contact(f, rep(c)) + "/emails",
                                   R"({"address":"third@three.example"})"};
                             }};
  t["contacts.remove_email"] = {S::team_owned, [rep](F& f, const cell& c) {
                                  const auto id = contact(f, rep(c));
                                  return request_spec{"POST",
                                                      "/api/contacts/" + id + "/emails/remove",
                                                      R"({"address":")" + id + R"(@two.example"})"};
                                }};
  t["contacts.set_primary_email"] = {S::team_owned, [rep](F& f, const cell& c) {
                                       const auto id = contact(f, rep(c));
                                       return request_spec{
                                           "POST", "/api/contacts/" + id + "/emails/primary",
                                           R"({"address":")" + id + R"(@two.example"})"};
                                     }};
  t["contacts.add_phone"] = {S::team_owned, [rep](F& f, const cell& c) {
                               return request_spec{
                                   "POST", "/api/contacts/" + contact(f, rep(c)) + "/phones",
                                   R"({"number":"+1 555 0199"})"};
                             }};
  t["contacts.remove_phone"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"POST", "/api/contacts/" + contact(f, rep(c)) + "/phones/remove",
                            R"({"number":"+1 555 0100"})"};
      }};
  t["contacts.consent"] = {S::team_owned, [rep](F& f, const cell& c) {
                             return request_spec{
                                 "POST", "/api/contacts/" + contact(f, rep(c)) + "/consents",
                                 R"({"channel":"phone_calls","granted":true})"};
                           }};
  t["contacts.merge"] = {S::team_owned, [rep](F& f, const cell& c) {
                           const auto survivor = contact(f, rep(c));
                           return request_spec{
                               "POST", "/api/contacts/" + survivor + "/merge",
                               R"({"duplicate_ids":[")" + contact(f, rep(c)) + R"("]})"};
                         }};

  // ---- leads ----
  // The model is the organisation's: the permission decides (retraining is an admin's).
  t["leads.scoring_model"] = {S::organisation, [](F&, const cell&) {
                                return request_spec{"GET", "/api/leads/scoring"};
                              }};
  t["leads.scoring_retrain"] = {S::organisation, [](F&, const cell&) {
                                  return request_spec{"POST", "/api/leads/scoring/retrain"};
                                }};
  t["leads.list"] = {S::team_owned, [rep](F& f, const cell& c) {
                       return list_of("/api/leads", lead(f, rep(c), lead_status::fresh));
                     }};
  t["leads.create"] = {
      S::create,
      [](F& f, const cell& c) {
        return request_spec{"POST", "/api/leads", R"({"name":"New",)" + owner_json(f, c) + "}"};
      },
      ownership_rule};
  t["leads.get"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"GET", "/api/leads/" + lead(f, rep(c), lead_status::fresh)};
      }};
  t["leads.update"] = {S::team_owned, [rep](F& f, const cell& c) {
                         return request_spec{"PATCH",
                                             "/api/leads/" + lead(f, rep(c), lead_status::fresh),
                                             R"({"phone":"+1 555 0111"})"};
                       }};
  t["leads.assign_owner"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"POST", "/api/leads/" + lead(f, rep(c), lead_status::fresh) + "/owner",
                            R"({"owner_id":)" + quoted(c.caller) + "}"};
      }};
  t["leads.mark_contacted"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"POST",
                            "/api/leads/" + lead(f, rep(c), lead_status::fresh) + "/contacted"};
      }};
  t["leads.erase"] = {S::team_owned, [rep](F& f, const cell& c) {
                        return request_spec{
                            "POST", "/api/leads/" + lead(f, rep(c), lead_status::fresh) + "/erase",
                            R"({"reason":"request 17"})"};
                      }};
  t["leads.export"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"GET", "/api/leads/" + lead(f, rep(c), lead_status::fresh) + "/export"};
      }};
  t["leads.qualify"] = {S::team_owned, [rep](F& f, const cell& c) {
                          return request_spec{
                              "POST",
                              "/api/leads/" + lead(f, rep(c), lead_status::contacted) + "/qualify"};
                        }};
  t["leads.disqualify"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"POST",
                            "/api/leads/" + lead(f, rep(c), lead_status::fresh) + "/disqualify",
                            R"({"reason":"spam"})"};
      }};
  t["leads.reopen"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"POST",
                            "/api/leads/" + lead(f, rep(c), lead_status::disqualified) + "/reopen"};
      }};
  t["leads.score"] = {S::team_owned, [rep](F& f, const cell& c) {
                        return request_spec{
                            "POST", "/api/leads/" + lead(f, rep(c), lead_status::fresh) + "/score",
                            R"({"score":42,"model":"manual"})"};
                      }};
  t["leads.convert"] = {S::team_owned, [rep](F& f, const cell& c) {
                          return request_spec{
                              "POST",
                              "/api/leads/" + lead(f, rep(c), lead_status::qualified) + "/convert"};
                        }};

  // ---- deals ----
  t["deals.list"] = {S::team_owned,
                     [rep](F& f, const cell& c) { return list_of("/api/deals", deal(f, rep(c))); }};
  t["deals.next_steps"] = {S::team_owned, [rep](F& f, const cell& c) {
                             return list_of("/api/deals/next-steps", deal(f, rep(c)));
                           }};
  t["deals.create"] = {
      S::create,
      [](F& f, const cell& c) {
        return request_spec{"POST", "/api/deals",
                            R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                                R"(","title":"New","value":{"amount_minor":1,"currency":"EUR"},)" +
                                owner_json(f, c) + "}"};
      },
      ownership_rule};
  t["deals.get"] = {S::team_owned, [rep](F& f, const cell& c) {
                      return request_spec{"GET", "/api/deals/" + deal(f, rep(c))};
                    }};
  t["deals.update"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"PATCH", "/api/deals/" + deal(f, rep(c)), R"({"title":"Renamed"})"};
      }};
  t["deals.archive"] = {S::team_owned, [rep](F& f, const cell& c) {
                          return request_spec{"DELETE", "/api/deals/" + deal(f, rep(c))};
                        }};
  t["deals.restore"] = {S::team_owned, [rep](F& f, const cell& c) {
                          const auto id = deal(f, rep(c));
                          run(f, deal_command{archive_deal{deal_id{id}}});
                          return request_spec{"POST", "/api/deals/" + id + "/restore"};
                        }};
  t["deals.move_stage"] = {S::team_owned, [rep](F& f, const cell& c) {
                             return request_spec{"POST", "/api/deals/" + deal(f, rep(c)) + "/stage",
                                                 R"({"stage_id":")" + f.stages[1] + R"("})"};
                           }};
  t["deals.win"] = {S::team_owned, [rep](F& f, const cell& c) {
                      return request_spec{"POST", "/api/deals/" + deal(f, rep(c)) + "/win"};
                    }};
  t["deals.lose"] = {S::team_owned, [rep](F& f, const cell& c) {
                       return request_spec{"POST", "/api/deals/" + deal(f, rep(c)) + "/lose",
                                           R"({"reason":"price"})"};
                     }};
  t["deals.reopen"] = {S::team_owned, [rep](F& f, const cell& c) {
                         const auto id = deal(f, rep(c));
                         run(f, deal_command{win_deal{deal_id{id}}});
                         return request_spec{"POST", "/api/deals/" + id + "/reopen"};
                       }};
  t["deals.change_value"] = {S::team_owned, [rep](F& f, const cell& c) {
                               return request_spec{
                                   "POST", "/api/deals/" + deal(f, rep(c)) + "/value",
                                   R"({"value":{"amount_minor":7,"currency":"EUR"}})"};
                             }};
  t["deals.assign_owner"] = {S::team_owned, [rep](F& f, const cell& c) {
                               return request_spec{"POST",
                                                   "/api/deals/" + deal(f, rep(c)) + "/owner",
                                                   R"({"owner_id":)" + quoted(c.caller) + "}"};
                             }};
  t["deals.link_contact"] = {S::team_owned, [rep](F& f, const cell& c) {
                               return request_spec{
                                   "POST", "/api/deals/" + deal(f, rep(c)) + "/contacts",
                                   R"({"contact_id":")" + contact(f, rep(c)) + R"("})"};
                             }};
  t["deals.unlink_contact"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        const auto id = deal(f, rep(c));
        const auto linked = contact(f, rep(c));
        run(f, deal_command{link_deal_contact{deal_id{id}, contact_id{linked}}});
        return request_spec{"DELETE", "/api/deals/" + id + "/contacts/" + linked};
      }};
  t["deals.link_company"] = {S::team_owned, [rep](F& f, const cell& c) {
                               return request_spec{
                                   "PUT", "/api/deals/" + deal(f, rep(c)) + "/company",
                                   R"({"company_id":")" + company(f, rep(c)) + R"("})"};
                             }};
  t["deals.unlink_company"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        const auto id = deal(f, rep(c));
        run(f, deal_command{link_deal_company{deal_id{id}, company_id{company(f, rep(c))}}});
        return request_spec{"DELETE", "/api/deals/" + id + "/company"};
      }};

  // ---- activities ----
  t["activities.list"] = {S::team_owned, [rep](F& f, const cell& c) {
                            return list_of("/api/activities", activity(f, rep(c)));
                          }};
  t["activities.create"] = {
      S::create,
      [](F& f, const cell& c) {
        // About a record every caller of team A sees; the owner varies.
        return request_spec{"POST", "/api/activities",
                            R"({"type":"note","subject":{"kind":"deal","id":")" + deal(f, f.a.rep) +
                                R"("},"summary":"New","occurred_at":"2026-11-27T10:00:00Z",)" +
                                owner_json(f, c) + "}"};
      },
      ownership_rule};
  t["activities.get"] = {S::team_owned, [rep](F& f, const cell& c) {
                           return request_spec{"GET", "/api/activities/" + activity(f, rep(c))};
                         }};
  t["activities.update"] = {S::team_owned, [rep](F& f, const cell& c) {
                              return request_spec{"PATCH", "/api/activities/" + activity(f, rep(c)),
                                                  R"({"summary":"Edited"})"};
                            }};
  t["activities.delete"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"DELETE", "/api/activities/" + activity(f, rep(c))};
      }};

  // ---- tasks ----
  t["tasks.list"] = {S::team_owned,
                     [rep](F& f, const cell& c) { return list_of("/api/tasks", task(f, rep(c))); }};
  t["tasks.create"] = {S::create,
                       [](F& f, const cell& c) {
                         return request_spec{
                             "POST", "/api/tasks",
                             R"({"title":"New",)" + owner_json(f, c, "assignee_id") + "}"};
                       },
                       ownership_rule};
  t["tasks.get"] = {S::team_owned, [rep](F& f, const cell& c) {
                      return request_spec{"GET", "/api/tasks/" + task(f, rep(c))};
                    }};
  t["tasks.update"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"PATCH", "/api/tasks/" + task(f, rep(c)), R"({"title":"Renamed"})"};
      }};
  t["tasks.delete"] = {S::team_owned, [rep](F& f, const cell& c) {
                         return request_spec{"DELETE", "/api/tasks/" + task(f, rep(c))};
                       }};
  t["tasks.complete"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"POST", "/api/tasks/" + task(f, rep(c)) + "/complete"};
      }};
  t["tasks.reopen"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"POST", "/api/tasks/" + task(f, rep(c), true) + "/reopen"};
      }};
  t["tasks.reassign"] = {S::team_owned, [rep](F& f, const cell& c) {
                           return request_spec{"POST",
                                               "/api/tasks/" + task(f, rep(c)) + "/assignee",
                                               R"({"assignee_id":)" + quoted(c.caller) + "}"};
                         }};

  // ---- read models: the board, search, timelines and the caller's inbox ----
  t["board.get"] = {S::organisation, [](F& f, const cell&) {
                      // sync() waits for the records read model only: the board may lag it.
                      return request_spec{"GET",
                                          "/api/pipelines/" + f.pipeline +
                                              "/board?min_position=" + std::to_string(f.head())};
                    }};
  // The contact is the only record with that address: it heads the hits exactly when visible.
  // (sync() waits for the records read model only; min_position waits for the search.)
  t["search.query"] = {S::team_owned, [rep](F& f, const cell& c) {
                         const auto id = contact(f, rep(c));
                         return request_spec{"GET",
                                             "/api/search?kinds=contact&q=" + id.substr(24) +
                                                 "&min_position=" + std::to_string(f.head()),
                                             "", id};
                       }};
  t["deals.timeline"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"GET", "/api/deals/" + deal(f, rep(c)) + "/timeline"};
      }};
  t["contacts.timeline"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"GET", "/api/contacts/" + contact(f, rep(c)) + "/timeline"};
      }};
  t["contacts.duplicates"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"GET", "/api/contacts/" + contact(f, rep(c)) + "/duplicates"};
      }};
  // Every pair the caller sees: the permission decides; which pairs, the route's own test.
  t["contacts.duplicate_pairs"] = {S::organisation, [](F&, const cell&) {
                                     return request_spec{"GET", "/api/contacts/duplicates"};
                                   }};
  t["companies.timeline"] = {
      S::team_owned, [rep](F& f, const cell& c) {
        return request_spec{"GET", "/api/companies/" + company(f, rep(c)) + "/timeline"};
      }};
  t["leads.timeline"] = {S::team_owned, [rep](F& f, const cell& c) {
                           return request_spec{
                               "GET",
                               "/api/leads/" + lead(f, rep(c), lead_status::fresh) + "/timeline"};
                         }};
  t["inbox.tasks"] = {S::organisation, [](F&, const cell&) {
                        return request_spec{"GET", "/api/me/tasks"};
                      }};
  t["inbox.notifications"] = {S::organisation, [](F&, const cell&) {
                                return request_spec{"GET", "/api/me/notifications"};
                              }};

  // ---- analytics: organisation-wide figures; a manager's are narrowed to their own team ----
  for (const char* report :
       {"pipeline", "forecast", "win-rates", "stage-durations", "stage-conversion", "funnel",
        "slipped-deals", "sales-velocity", "activities"}) {
    std::string name = std::string("analytics.") + report;
    std::replace(name.begin(), name.end(), '-', '_');
    t[name] = {S::organisation, [report](F& f, const cell&) {
                 return request_spec{"GET", std::string("/api/analytics/") + report +
                                                "?min_position=" + std::to_string(f.head())};
               }};
  }
  t["analytics.refresh"] = {S::organisation, [](F&, const cell&) {
                              return request_spec{"POST", "/api/analytics/refresh", "{}"};
                            }};

  // ---- audit: the history of every team, for audit:view alone ----
  const auto now = [] {
    return *infra::format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
  };
  for (const char* part : {"events", "state", "changes"}) {
    t[std::string("audit.stream_") + part] = {
        S::organisation, [rep, part](F& f, const cell& c) {
          return request_spec{"GET", "/api/audit/streams/deal-" + deal(f, rep(c)) + "/" + part};
        }};
  }
  t["audit.feed"] = {S::organisation, [](F&, const cell&) {
                       return request_spec{"GET", "/api/audit/events?limit=5"};
                     }};
  t["audit.correlation_events"] = {
      S::organisation, [](F&, const cell&) {
        return request_spec{"GET", "/api/audit/correlations/none/events"};
      }};
  t["audit.board_as_of"] = {
      S::organisation, [now](F& f, const cell&) {
        return request_spec{"GET", "/api/audit/pipelines/" + f.pipeline + "/board?as_of=" + now()};
      }};
  t["audit.board_changes"] = {S::organisation, [now](F& f, const cell&) {
                                const auto at = now();
                                return request_spec{"GET", "/api/audit/pipelines/" + f.pipeline +
                                                               "/board/changes?from=" + at +
                                                               "&to=" + at};
                              }};
  t["audit.verify"] = {S::organisation, [](F&, const cell&) {
                         return request_spec{"GET", "/api/audit/verify"};
                       }};
  t["audit.forecast_as_of"] = {S::organisation, [now](F&, const cell&) {
                                 return request_spec{"GET", "/api/audit/forecast?as_of=" + now()};
                               }};

  // ---- webhooks: admin:access alone ----
  t["webhooks.list"] = {S::organisation, [](F&, const cell&) {
                          return request_spec{"GET", "/api/webhooks"};
                        }};
  t["webhooks.create"] = {S::organisation, [](F&, const cell&) {
                            return request_spec{
                                "POST", "/api/webhooks",
                                R"({"url":"https://hooks.example.com/new","event_types":["*"]})"};
                          }};
  t["webhooks.event_types"] = {S::organisation, [](F&, const cell&) {
                                 return request_spec{"GET", "/api/webhooks/event-types"};
                               }};
  t["webhooks.get"] = {S::organisation, [](F& f, const cell&) {
                         return request_spec{"GET", "/api/webhooks/" + webhook(f)};
                       }};
  t["webhooks.update"] = {
      S::organisation, [](F& f, const cell&) {
        return request_spec{"PATCH", "/api/webhooks/" + webhook(f), R"({"description":"matrix"})"};
      }};
  t["webhooks.delete"] = {S::organisation, [](F& f, const cell&) {
                            return request_spec{"DELETE", "/api/webhooks/" + webhook(f)};
                          }};
  t["webhooks.rotate_secret"] = {
      S::organisation, [](F& f, const cell&) {
        return request_spec{"POST", "/api/webhooks/" + webhook(f) + "/rotate-secret"};
      }};
  t["webhooks.replay"] = {S::organisation, [](F& f, const cell&) {
                            return request_spec{"POST", "/api/webhooks/" + webhook(f) + "/replay",
                                                R"({"from_position":0})"};
                          }};
  t["webhooks.deliveries"] = {
      S::organisation, [](F& f, const cell&) {
        return request_spec{"GET", "/api/webhooks/" + webhook(f) + "/deliveries"};
      }};
  t["webhooks.delivery"] = {
      S::organisation, [](F& f, const cell&) {
        const auto [id, delivery] = webhook_delivery(f);
        return request_spec{"GET", "/api/webhooks/" + id + "/deliveries/" + delivery};
      }};
  t["webhooks.redeliver"] = {S::organisation, [](F& f, const cell&) {
                               const auto [id, delivery] = webhook_delivery(f);
                               return request_spec{"POST", "/api/webhooks/" + id + "/deliveries/" +
                                                               delivery + "/redeliver"};
                             }};
  // ---- integrations: inbound messages no contact matched, for admins alone ----
  t["integrations.unmatched"] = {S::organisation, [](F&, const cell&) {
                                   return request_spec{"GET", "/api/integrations/unmatched"};
                                 }};
  return t;
}

std::string caller_of(const crm_fixture& f, user_role role) {
  switch (role) {
    case user_role::admin:
      return f.admin;
    case user_role::manager:
      return f.a.manager;
    case user_role::sales_rep:
      return f.a.rep;
    case user_role::analyst:
      return f.a.analyst;
    case user_role::auditor:
      return f.a.auditor;
  }
  return {};
}

// The answer a cell must get, from the permission table and the scope rules.
int expected_status(const api::route& route, const scenario& s, const cell& c) {
  const auto needed = api::auth::permission_from_string(route.permission);
  REQUIRE(needed.has_value());
  if (!api::auth::has_permission(c.role, *needed)) return 403;
  const bool is_list = route.method == "GET" && route.pattern.find('{') == std::string::npos;
  if (s.scope == scope_kind::team_owned && !is_list) {
    const std::optional<std::string_view> caller_team =
        c.role == user_role::admin ? std::nullopt : std::optional<std::string_view>("A");
    const std::optional<std::string_view> record_team(c.own_team ? "A" : "B");
    if (!api::auth::can_see_record(c.role, caller_team, record_team)) return 404;
  }
  if (s.extra) {
    if (const int refused = s.extra(c)) return refused;
  }
  return route.success_status;
}

// Runs every cell of the routes whose names start with `group`; returns how many were checked.
int run_matrix(crm_fixture& f, std::string_view group) {
  const auto table = scenarios();
  int cells = 0;
  for (const auto& route : f.routes().routes()) {
    if (!route.name.starts_with(group)) continue;
    const auto it = table.find(route.name);
    INFO("route ", route.name);
    REQUIRE(it != table.end());
    for (const auto role : api::auth::kAllRoles) {
      for (const auto* target : {&f.a, &f.b}) {
        const cell c{role, caller_of(f, role), target, target == &f.a};
        const auto spec = it->second.make(f, c);
        f.sync();
        const int expected = expected_status(route, it->second, c);
        const auto r = f.call(spec.method, spec.path, c.caller, spec.body);
        INFO(route.name, " as ", to_string(role), " on team ", c.own_team ? "A" : "B", ": ",
             r.body);
        CHECK(r.status == expected);
        if (expected == 403) CHECK(r.str("type") == "urn:realmkit:problem:forbidden");
        if (expected == 404) CHECK(r.str("type") == "urn:realmkit:problem:not-found");
        if (!spec.listed.empty() && r.status == 200) {
          // Lists leave out what the caller may not see: the new record heads the page exactly
          // when it is visible.
          const bool visible = api::auth::can_see_record(
              role, role == user_role::admin ? std::nullopt : std::optional<std::string_view>("A"),
              std::optional<std::string_view>(c.own_team ? "A" : "B"));
          const auto& items = r.json["items"];
          const bool heads = items.Size() > 0 && items[0]["id"].GetString() == spec.listed;
          CHECK(heads == visible);
        }
        ++cells;
      }
    }
  }
  return cells;
}

}  // namespace

TEST_CASE("the matrix has a scenario for every CRM route and a route for every scenario") {
  crm_fixture f(sqlite_backend::make_store_and_database());
  const auto table = scenarios();
  std::set<std::string> routed;
  for (const auto& route : f.routes().routes()) {
    routed.insert(route.name);
    CHECK_MESSAGE(table.count(route.name) == 1, "no matrix scenario for ", route.name);
    CHECK_MESSAGE(api::auth::permission_from_string(route.permission).has_value(), route.name,
                  " carries no known permission");
    CHECK_FALSE(route.anonymous);
    CHECK(route.blocking);
    // What the OpenAPI document says of the answer: creates are 201, commands and lists have
    // their shared shapes.
    const bool collection = route.pattern.find('{') == std::string::npos;
    // The collection POSTs that create nothing: a refresh of the analytics' views, a retraining
    // of the lead scoring model.
    const bool creates = route.method == "POST" && collection &&
                         route.name != "analytics.refresh" && route.name != "leads.scoring_retrain";
    CHECK(route.success_status == (creates ? 201 : 200));
    if (route.method != "GET" || collection) {
      rapidjson::Document schema;
      schema.Parse(route.response_schema.c_str());
      CHECK_MESSAGE((!schema.HasParseError() && schema.IsObject()), route.name);
    }
  }
  for (const auto& [name, s] : table) CHECK_MESSAGE(routed.count(name) == 1, "no route ", name);
}

#define REALMKIT_MATRIX_GROUP(title, prefix, expected_routes)                               \
  TEST_CASE_TEMPLATE("authorization matrix: " title, B, sqlite_backend, postgres_backend) { \
    crm_fixture f(B::make_store_and_database());                                            \
    CHECK(run_matrix(f, prefix) == (expected_routes)*10);                                   \
  }

REALMKIT_MATRIX_GROUP("users", "users.", 7)
REALMKIT_MATRIX_GROUP("teams", "teams.", 7)
REALMKIT_MATRIX_GROUP("pipelines", "pipelines.", 9)
REALMKIT_MATRIX_GROUP("companies", "companies.", 10)
REALMKIT_MATRIX_GROUP("contacts", "contacts.", 21)
REALMKIT_MATRIX_GROUP("leads", "leads.", 16)
REALMKIT_MATRIX_GROUP("deals", "deals.", 18)
REALMKIT_MATRIX_GROUP("activities", "activities.", 5)
REALMKIT_MATRIX_GROUP("tasks", "tasks.", 8)
REALMKIT_MATRIX_GROUP("board", "board.", 1)
REALMKIT_MATRIX_GROUP("search", "search.", 1)
REALMKIT_MATRIX_GROUP("inbox", "inbox.", 2)
REALMKIT_MATRIX_GROUP("analytics", "analytics.", 10)
REALMKIT_MATRIX_GROUP("audit", "audit.", 9)
REALMKIT_MATRIX_GROUP("webhooks", "webhooks.", 11)
REALMKIT_MATRIX_GROUP("integrations", "integrations.", 1)
