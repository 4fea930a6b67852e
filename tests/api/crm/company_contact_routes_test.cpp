// /api/companies and /api/contacts over HTTP on both store backends: details, tags, owners,
// addresses, numbers, consent, archiving and the merge of duplicates.
#include <doctest/doctest.h>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

reply get_after(crm_fixture& f, const std::string& path, const std::string& user,
                const reply& command) {
  INFO(command.body);
  REQUIRE(command.status / 100 == 2);
  return f.call("GET", path + "?min_position=" + std::to_string(command.integer("position")), user);
}

}  // namespace

TEST_CASE_TEMPLATE("companies: create, change, tag, give away, archive over HTTP", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  auto created = f.call("POST", "/api/companies", rep,
                        R"({"name":"Acme","domain":"Acme.example","industry":"Tools",)"
                        R"("size":"11-50","address":{"city":"Berlin","country":"de"},)"
                        R"("tags":["VIP"," vip ","Partner"]})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  const auto path = "/api/companies/" + id;
  auto got = get_after(f, path, rep, created);
  REQUIRE(got.status == 200);
  CHECK(got.str("domain") == "acme.example");
  CHECK(got.str("size") == "11-50");
  CHECK(std::string(got.json["address"]["country"].GetString()) == "DE");
  CHECK(got.json["tags"].Size() == 2);
  CHECK(got.str("owner_id") == rep);

  auto patched = f.call("PATCH", path, rep, R"({"industry":"","phone":"+49 30 1234567"})");
  got = get_after(f, path, rep, patched);
  CHECK(got.str("industry").empty());
  CHECK(got.str("phone") == "+49 30 1234567");

  auto untagged = f.call("POST", path + "/tags/remove", rep, R"({"tags":["vip"]})");
  CHECK(f.call("POST", path + "/tags", rep, R"({"tags":["Reseller"]})").status == 200);
  got = get_after(f, path, rep, untagged);
  CHECK(got.json["tags"].Size() >= 1);

  const auto head = f.head();
  check_problem(f.call("PATCH", path, rep, R"({"size":"huge"})"), 422, "validation", "size");
  check_problem(f.call("PATCH", path, rep, R"({"name":""})"), 422, "validation", "name");
  check_problem(f.call("PATCH", path, rep, R"({})"), 422, "validation");
  check_problem(f.call("PATCH", path, rep, R"({"owner_id":")" + rep + R"("})"), 422, "validation",
                "owner_id");
  check_problem(f.call("POST", "/api/companies", rep, R"({"name":"X","domain":"http://x/y"})"), 422,
                "validation", "domain");
  check_problem(f.call("GET", path, f.b.rep), 404, "not-found");
  CHECK(f.head() == head);

  // The manager of team A gives the company to a teammate; the rep archives and restores it.
  CHECK(f.call("POST", path + "/owner", f.a.manager, R"({"owner_id":")" + f.a.rep2 + R"("})")
            .status == 200);
  CHECK(f.call("DELETE", path, rep).status == 200);
  auto restored = f.call("POST", path + "/restore", rep);
  got = get_after(f, path, rep, restored);
  CHECK(got.str("owner_id") == f.a.rep2);
  CHECK_FALSE(got.json["archived"].GetBool());

  auto list = f.call("GET", "/api/companies?owner=" + f.a.rep2, f.a.manager);
  REQUIRE(list.json["items"].Size() == 1);
  CHECK(f.call("GET", "/api/companies", f.b.manager).json["items"].Size() == 0);
}

TEST_CASE_TEMPLATE("contacts: details, addresses, numbers, consent, tags over HTTP", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto company = f.make_company(rep);
  auto created = f.call(
      "POST", "/api/contacts", rep,
      R"({"first_name":"Ada","last_name":"Lovelace","title":"CTO",)"
      R"("emails":[{"address":"Ada@Example.com"},{"address":"ada@work.example","primary":true}],)"
      R"("phones":[{"number":"+44 20 7946 0000","label":"work"}],)"
      R"("company_id":")" +
          company + R"(","tags":["math"]})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  const auto path = "/api/contacts/" + id;
  auto got = get_after(f, path, rep, created);
  REQUIRE(got.status == 200);
  CHECK(got.json["emails"].Size() == 2);
  CHECK(got.str("company_id") == company);
  CHECK(got.str("title") == "CTO");

  CHECK(f.call("PATCH", path, rep, R"({"title":"Countess","company_id":null})").status == 200);
  CHECK(f.call("POST", path + "/emails", rep, R"({"address":"ada@home.example","primary":true})")
            .status == 200);
  CHECK(f.call("POST", path + "/emails/remove", rep, R"({"address":"ada@example.com"})").status ==
        200);
  CHECK(f.call("POST", path + "/emails/primary", rep, R"({"address":"ada@work.example"})").status ==
        200);
  CHECK(f.call("POST", path + "/phones", rep, R"({"number":"+44 7700 900000","label":"mobile"})")
            .status == 200);
  CHECK(f.call("POST", path + "/phones/remove", rep, R"({"number":"+44 (20) 7946-0000"})").status ==
        200);
  CHECK(f.call("POST", path + "/consents", rep,
               R"({"channel":"email_marketing","granted":true,"source":"web form"})")
            .status == 200);
  CHECK(f.call("POST", path + "/tags", rep, R"({"tags":["poet"]})").status == 200);
  auto last = f.call("POST", path + "/tags/remove", rep, R"({"tags":["math"]})");
  got = get_after(f, path, rep, last);
  CHECK(got.str("title") == "Countess");
  CHECK(got.json["company_id"].IsNull());
  CHECK(got.json["emails"].Size() == 2);
  CHECK(got.json["phones"].Size() == 1);
  CHECK(got.json["consents"]["email_marketing"]["granted"].GetBool());
  CHECK(got.json["tags"].Size() == 1);

  const auto head = f.head();
  check_problem(f.call("POST", path + "/consents", rep, R"({"channel":"pigeon","granted":true})"),
                422, "validation", "channel");
  check_problem(f.call("POST", path + "/consents", rep, R"({"channel":"sms_marketing"})"), 422,
                "validation", "granted");
  check_problem(f.call("POST", path + "/emails", rep, R"({"address":"not an address"})"), 422,
                "validation");
  check_problem(f.call("POST", path + "/phones", rep, R"({"number":"+1 555 0100","label":"car"})"),
                422, "validation", "label");
  check_problem(
      f.call("PATCH", path, rep, R"({"company_id":"0193a1b2-0000-7000-8000-000000000001"})"), 422,
      "validation", "company_id");
  check_problem(f.call("POST", "/api/contacts", rep, R"({"first_name":"No last name"})"), 422,
                "validation", "last_name");
  check_problem(f.call("POST", "/api/contacts", rep,
                       R"({"last_name":"X","emails":[{"address":"x@example.com","kind":"home"}]})"),
                422, "validation", "emails/0.kind");
  // Archiving a contact is a deletion right: managers, not sales reps.
  check_problem(f.call("DELETE", path, rep), 403, "forbidden");
  CHECK(f.head() == head);
  CHECK(f.call("DELETE", path, f.a.manager).status == 200);
  CHECK(f.call("POST", path + "/restore", f.a.manager).status == 200);
}

TEST_CASE_TEMPLATE("contacts: duplicates merge into one, hidden ones are not found", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  auto make = [&](const std::string& email) {
    auto r = f.call("POST", "/api/contacts", rep,
                    R"({"last_name":"Hopper","emails":[{"address":")" + email + R"("}]})");
    REQUIRE(r.status == 201);
    return r.str("id");
  };
  const auto survivor = make("grace@navy.example");
  const auto dup1 = make("grace@yale.example");
  const auto dup2 = make("g.hopper@navy.example");
  const auto theirs = f.make_contact(f.b.rep, "Hopper");
  f.sync();
  const auto head = f.head();

  check_problem(f.call("POST", "/api/contacts/" + survivor + "/merge", rep,
                       R"({"duplicate_ids":[")" + dup1 + R"(",")" + theirs + R"("]})"),
                404, "not-found", "duplicate_ids/1");
  check_problem(f.call("POST", "/api/contacts/" + survivor + "/merge", rep,
                       R"({"duplicate_ids":[")" + survivor + R"("]})"),
                422, "validation");
  check_problem(
      f.call("POST", "/api/contacts/" + survivor + "/merge", rep, R"({"duplicate_ids":[]})"), 422,
      "validation");
  check_problem(
      f.call("POST", "/api/contacts/" + survivor + "/merge", rep, R"({"duplicate_ids":"nope"})"),
      422, "validation", "duplicate_ids");
  CHECK(f.head() == head);

  auto merged =
      f.call("POST", "/api/contacts/" + survivor + "/merge", rep,
             R"({"duplicate_ids":[")" + dup1 + R"(",")" + dup2 + R"("],"expected_version":1})");
  auto got = get_after(f, "/api/contacts/" + survivor, rep, merged);
  CHECK(got.json["emails"].Size() == 3);
  auto dup = f.call("GET", "/api/contacts/" + dup1, rep);
  CHECK(dup.str("merged_into") == survivor);
  // Merged duplicates leave the lists.
  auto list = f.call("GET", "/api/contacts", rep);
  CHECK(list.json["items"].Size() == 1);
}
