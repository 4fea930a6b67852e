// Renders any describable domain value as a compact string, so a failed given/when/then names the
// events and fields that differ.
#pragma once

#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "domain/common/types.hpp"

namespace realmkit::testing {

template <class T>
void print_value(std::ostream& out, const T& value);
template <class... Ts>
void print_value(std::ostream& out, const std::variant<Ts...>& value);

struct describe_printer {
  std::ostream& out;
  bool first = true;
  template <class T>
  void operator()(const char* name, const T& value) {
    out << (first ? "" : ", ") << name << '=';
    first = false;
    print_value(out, value);
  }
};

template <class T>
concept describable = requires(const T& t, describe_printer& p) {
  T::describe(t, p);
};

template <class T>
concept has_to_string = requires(const T& t) {
  to_string(t);
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_id : std::false_type {};
template <class Tag>
struct is_id<domain::id<Tag>> : std::true_type {};

template <class T>
void print_value(std::ostream& out, const T& value) {
  if constexpr (is_id<T>::value) {
    out << value.value;
  } else if constexpr (std::is_same_v<T, std::string>) {
    out << '"' << value << '"';
  } else if constexpr (std::is_same_v<T, bool>) {
    out << (value ? "true" : "false");
  } else if constexpr (std::is_arithmetic_v<T>) {
    out << value;
  } else if constexpr (std::is_same_v<T, domain::money>) {
    out << value.amount_minor << ' ' << value.currency;
  } else if constexpr (std::is_same_v<T, domain::timestamp>) {
    out << value.time_since_epoch().count() << "us";
  } else if constexpr (std::is_same_v<T, domain::date>) {
    const std::chrono::year_month_day ymd(value);
    out << static_cast<int>(ymd.year()) << '-' << static_cast<unsigned>(ymd.month()) << '-'
        << static_cast<unsigned>(ymd.day());
  } else if constexpr (is_optional<T>::value) {
    if (value) {
      print_value(out, *value);
    } else {
      out << "null";
    }
  } else if constexpr (is_vector<T>::value) {
    out << '[';
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (i) out << ", ";
      print_value(out, value[i]);
    }
    out << ']';
  } else if constexpr (describable<T>) {
    if constexpr (requires { T::kType; }) out << T::kType;
    out << '{';
    describe_printer p{out};
    T::describe(value, p);
    out << '}';
  } else if constexpr (has_to_string<T>) {
    out << to_string(value);
  } else {
    static_assert(sizeof(T) == 0, "print_value: no printer for this type");
  }
}

template <class... Ts>
void print_value(std::ostream& out, const std::variant<Ts...>& value) {
  std::visit([&](const auto& alternative) { print_value(out, alternative); }, value);
}

template <class T>
std::string to_debug_string(const T& value) {
  std::ostringstream out;
  print_value(out, value);
  return out.str();
}

}  // namespace realmkit::testing
