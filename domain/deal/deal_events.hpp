// Events of the deal aggregate: a sales opportunity moving through the stages of one pipeline
// until it is won or lost.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/common/types.hpp"

namespace realmkit::domain {

struct deal_created {
  static constexpr std::string_view kType = "deal.created.v1";
  deal_id deal;
  pipeline_id pipeline;
  stage_id stage;
  std::string title;
  money value;
  user_id owner;
  std::optional<company_id> company;
  std::vector<contact_id> contacts;  // sorted, without duplicates
  std::optional<date> expected_close_date;
  timestamp at{};  // when the deal entered its first stage

  bool operator==(const deal_created&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("pipeline_id", self.pipeline);
    v("stage_id", self.stage);
    v("title", self.title);
    v("value", self.value);
    v("owner_id", self.owner);
    v("company_id", self.company);
    v("contact_ids", self.contacts);
    v("expected_close_date", self.expected_close_date);
    v("at", self.at);
  }
};

struct deal_renamed {
  static constexpr std::string_view kType = "deal.renamed.v1";
  deal_id deal;
  std::string title;

  bool operator==(const deal_renamed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("title", self.title);
  }
};

// Both amounts travel with the event so that board totals can be adjusted without a lookup.
struct deal_value_changed {
  static constexpr std::string_view kType = "deal.value_changed.v1";
  deal_id deal;
  money from;
  money to;

  bool operator==(const deal_value_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("from", self.from);
    v("to", self.to);
  }
};

// `at` is when the deal left `from_stage`: analytics derives time in stage from consecutive moves.
struct deal_stage_moved {
  static constexpr std::string_view kType = "deal.stage_moved.v1";
  deal_id deal;
  pipeline_id pipeline;
  stage_id from_stage;
  stage_id to_stage;
  timestamp at{};

  bool operator==(const deal_stage_moved&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("pipeline_id", self.pipeline);
    v("from_stage_id", self.from_stage);
    v("to_stage_id", self.to_stage);
    v("at", self.at);
  }
};

struct deal_owner_assigned {
  static constexpr std::string_view kType = "deal.owner_assigned.v1";
  deal_id deal;
  user_id from_owner;
  user_id to_owner;

  bool operator==(const deal_owner_assigned&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("from_owner_id", self.from_owner);
    v("to_owner_id", self.to_owner);
  }
};

// A deal belongs to at most one company: linking another first emits deal.company_unlinked.v1 for
// the previous one, so every company-side read model sees both sides of the change.
struct deal_company_linked {
  static constexpr std::string_view kType = "deal.company_linked.v1";
  deal_id deal;
  company_id company;

  bool operator==(const deal_company_linked&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("company_id", self.company);
  }
};

struct deal_company_unlinked {
  static constexpr std::string_view kType = "deal.company_unlinked.v1";
  deal_id deal;
  company_id company;

  bool operator==(const deal_company_unlinked&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("company_id", self.company);
  }
};

struct deal_contact_linked {
  static constexpr std::string_view kType = "deal.contact_linked.v1";
  deal_id deal;
  contact_id contact;

  bool operator==(const deal_contact_linked&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("contact_id", self.contact);
  }
};

struct deal_contact_unlinked {
  static constexpr std::string_view kType = "deal.contact_unlinked.v1";
  deal_id deal;
  contact_id contact;

  bool operator==(const deal_contact_unlinked&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("contact_id", self.contact);
  }
};

// An absent `to` clears the expected close date.
struct deal_close_date_changed {
  static constexpr std::string_view kType = "deal.close_date_changed.v1";
  deal_id deal;
  std::optional<date> from;
  std::optional<date> to;

  bool operator==(const deal_close_date_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("from", self.from);
    v("to", self.to);
  }
};

struct deal_won {
  static constexpr std::string_view kType = "deal.won.v1";
  deal_id deal;
  timestamp at{};

  bool operator==(const deal_won&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("at", self.at);
  }
};

struct deal_lost {
  static constexpr std::string_view kType = "deal.lost.v1";
  deal_id deal;
  std::string reason;
  timestamp at{};

  bool operator==(const deal_lost&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("reason", self.reason);
    v("at", self.at);
  }
};

// A reopened deal enters `stage` afresh at `at`; the stage it was closed in may have been removed
// from the pipeline meanwhile, so the stage is always stated.
struct deal_reopened {
  static constexpr std::string_view kType = "deal.reopened.v1";
  deal_id deal;
  stage_id stage;
  timestamp at{};

  bool operator==(const deal_reopened&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("stage_id", self.stage);
    v("at", self.at);
  }
};

// Archiving is the deal's soft delete: it leaves boards and reports but keeps its history.
struct deal_archived {
  static constexpr std::string_view kType = "deal.archived.v1";
  deal_id deal;

  bool operator==(const deal_archived&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
  }
};

struct deal_restored {
  static constexpr std::string_view kType = "deal.restored.v1";
  deal_id deal;

  bool operator==(const deal_restored&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
  }
};

// A linked contact was merged into another: the deal now names the survivor instead (once, if it
// already named both). Recorded on closed and archived deals too: it corrects a reference, it is
// no sales decision.
struct deal_contact_relinked {
  static constexpr std::string_view kType = "deal.contact_relinked.v1";
  deal_id deal;
  contact_id from;
  contact_id contact;

  bool operator==(const deal_contact_relinked&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("deal_id", self.deal);
    v("from_contact_id", self.from);
    v("contact_id", self.contact);
  }
};

using deal_event =
    std::variant<deal_created, deal_renamed, deal_value_changed, deal_stage_moved,
                 deal_owner_assigned, deal_company_linked, deal_company_unlinked,
                 deal_contact_linked, deal_contact_unlinked, deal_close_date_changed, deal_won,
                 deal_lost, deal_reopened, deal_archived, deal_restored, deal_contact_relinked>;

}  // namespace realmkit::domain
