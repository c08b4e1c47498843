#include "runtime/budget/budget_state.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace streamb::budget;

namespace {

constexpr int64_t usd = 1'000'000; // micro-dollars
constexpr int64_t budget = 100 * usd;

using kind = budget_event::kind;

std::vector<uint32_t> levels(const std::vector<budget_event>& events) {
  std::vector<uint32_t> out;
  for (const auto& e : events)
    if (e.what == kind::level_reached)
      out.push_back(e.level_bp);
  return out;
}

std::vector<budget_event> mode_changes(const std::vector<budget_event>& xs) {
  std::vector<budget_event> out;
  for (const auto& e : xs)
    if (e.what == kind::mode_changed)
      out.push_back(e);
  return out;
}

using bps = std::vector<uint32_t>;

} // namespace

TEST_CASE("spend at 74, 76, 91, 95 and 100 % reports each level once and "
          "throttles, then caps with hard_cap",
          "[budget]") {
  budget_state b{budget, true};
  CHECK(b.observe(74 * usd).empty());
  CHECK(b.mode() == budget_mode::normal);

  auto at76 = b.observe(76 * usd);
  CHECK(levels(at76) == bps{7500});
  CHECK(mode_changes(at76).empty());
  CHECK(at76.front().spend_micro == 76 * usd);
  CHECK(at76.front().budget_micro == budget);
  CHECK(b.observe(77 * usd).empty()); // same crossing: nothing new

  CHECK(levels(b.observe(91 * usd)) == bps{9000});
  CHECK(b.admits(priority::low));

  auto at95 = b.observe(95 * usd);
  CHECK(levels(at95) == bps{9500});
  auto throttle = mode_changes(at95);
  REQUIRE(throttle.size() == 1);
  CHECK(throttle[0].from == budget_mode::normal);
  CHECK(throttle[0].to == budget_mode::throttled);
  CHECK(b.admits(priority::critical));
  CHECK_FALSE(b.admits(priority::high));
  CHECK_FALSE(b.admits(priority::normal));
  CHECK_FALSE(b.admits(priority::low));
  CHECK(b.observe(99 * usd).empty());

  auto at100 = b.observe(100 * usd);
  CHECK(levels(at100) == bps{10000});
  auto cap = mode_changes(at100);
  REQUIRE(cap.size() == 1);
  CHECK(cap[0].from == budget_mode::throttled);
  CHECK(cap[0].to == budget_mode::capped);
  CHECK_FALSE(b.admits(priority::critical));
  CHECK(b.observe(120 * usd).empty());
  CHECK(b.reached_levels() == bps{7500, 9000, 9500, 10000});
}

TEST_CASE("without hard_cap, 100 % is reported but only throttles",
          "[budget]") {
  budget_state b{budget, false};
  b.observe(96 * usd);
  auto at100 = b.observe(100 * usd);
  CHECK(levels(at100) == bps{10000});
  CHECK(mode_changes(at100).empty());
  CHECK(b.mode() == budget_mode::throttled);
  CHECK(b.admits(priority::critical));
}

TEST_CASE("levels are reached at exact micro-dollars", "[budget]") {
  budget_state b{budget, false};
  CHECK(b.observe(75 * usd - 1).empty());
  CHECK(levels(b.observe(75 * usd)) == bps{7500});
  CHECK(b.observe(95 * usd - 1).size() == 1); // 90 % only
  CHECK(b.mode() == budget_mode::normal);
  CHECK(b.observe(95 * usd).size() == 2); // 95 % and the throttle
}

TEST_CASE("a jump over several levels reports each, lowest first", "[budget]") {
  budget_state b{budget, true};
  auto events = b.observe(101 * usd);
  CHECK(levels(events) == bps{7500, 9000, 9500, 10000});
  auto modes = mode_changes(events);
  REQUIRE(modes.size() == 1);
  CHECK(modes[0].from == budget_mode::normal);
  CHECK(modes[0].to == budget_mode::capped);
}

TEST_CASE("a spend corrected downwards lifts the throttle but does not "
          "re-alert",
          "[budget]") {
  budget_state b{budget, false};
  b.observe(96 * usd);
  auto down = b.observe(94 * usd); // a reservation reconciled lower
  REQUIRE(mode_changes(down).size() == 1);
  CHECK(b.mode() == budget_mode::normal);
  auto up = b.observe(96 * usd);
  CHECK(levels(up).empty());
  REQUIRE(mode_changes(up).size() == 1);
  CHECK(b.mode() == budget_mode::throttled);
}

TEST_CASE("an operator can force and lift the throttle", "[budget]") {
  budget_state b{budget, true};
  b.observe(50 * usd);
  auto forced = b.set_override(budget_override::force);
  REQUIRE(forced.size() == 1);
  CHECK(forced[0].to == budget_mode::throttled);
  CHECK(b.admits(priority::critical));
  CHECK_FALSE(b.admits(priority::high));
  CHECK(b.set_override(budget_override::none).size() == 1);
  CHECK(b.mode() == budget_mode::normal);

  b.observe(97 * usd);
  CHECK(b.mode() == budget_mode::throttled);
  auto lifted = b.set_override(budget_override::lift);
  REQUIRE(lifted.size() == 1);
  CHECK(lifted[0].to == budget_mode::normal);
  CHECK(b.admits(priority::low));
  // Lifted stays lifted as spend grows -- past the hard cap too -- but the
  // levels are still reported.
  auto over = b.observe(100 * usd);
  CHECK(levels(over) == bps{10000});
  CHECK(mode_changes(over).empty());
  CHECK(b.admits(priority::low));
  // Clearing the override brings the cap back.
  auto cleared = b.set_override(budget_override::none);
  REQUIRE(cleared.size() == 1);
  CHECK(cleared[0].to == budget_mode::capped);
  // Forcing a throttle does not loosen a cap.
  CHECK(b.set_override(budget_override::force).empty());
  CHECK(b.mode() == budget_mode::capped);
}

TEST_CASE("a new month clears spend, levels and override", "[budget]") {
  budget_state b{budget, true};
  b.observe(100 * usd);
  b.set_override(budget_override::force);
  auto rolled = b.roll_month();
  REQUIRE(rolled.size() == 1);
  CHECK(rolled[0].from == budget_mode::capped);
  CHECK(rolled[0].to == budget_mode::normal);
  CHECK(b.spend_micro() == 0);
  CHECK(b.override_mode() == budget_override::none);
  CHECK(b.reached_levels().empty());
  CHECK(levels(b.observe(76 * usd)) == bps{7500}); // reported again
}

TEST_CASE("custom thresholds and a budget of 0", "[budget]") {
  budget_state custom{budget, false, {5000}};
  CHECK(levels(custom.observe(60 * usd)) == bps{5000});
  CHECK(levels(custom.observe(100 * usd)) == bps{9500, 10000});
  CHECK(custom.utilization_ppm() == 1'000'000);

  budget_state none{0, true};
  CHECK(none.observe(1'000 * usd).empty());
  CHECK(none.mode() == budget_mode::normal);
  CHECK(none.utilization_ppm() == 0);
}

TEST_CASE("utilization is integer parts per million", "[budget]") {
  budget_state b{3 * usd, false};
  b.observe(1 * usd);
  CHECK(b.utilization_ppm() == 333'333);
  b.observe(3 * usd);
  CHECK(b.utilization_ppm() == 1'000'000);
}

TEST_CASE("a reconfigured budget keeps the spend, re-arms the levels it no "
          "longer reaches and re-judges the mode",
          "[budget]") {
  budget_state b{budget, false};
  b.observe(96 * usd);
  CHECK(b.mode() == budget_mode::throttled);
  auto raised = b.reconfigure(2 * budget, false); // 48 %
  CHECK(levels(raised).empty());
  auto back = mode_changes(raised);
  REQUIRE(back.size() == 1);
  CHECK(back[0].to == budget_mode::normal);
  CHECK(b.spend_micro() == 96 * usd);
  CHECK(b.reached_levels().empty());
  // 75 % of the new budget alerts again.
  CHECK(levels(b.observe(150 * usd)) == bps{7500});
  auto capped = b.reconfigure(budget, true); // 150 %, hard cap
  CHECK(levels(capped) == bps{9000, 9500, 10000});
  auto cap = mode_changes(capped);
  REQUIRE(cap.size() == 1);
  CHECK(cap[0].from == budget_mode::normal);
  CHECK(cap[0].to == budget_mode::capped);
  // Nothing changed: nothing reported.
  CHECK(b.reconfigure(budget, true).empty());
}

TEST_CASE("a reconfigure keeps an operator override", "[budget]") {
  budget_state b{budget, false};
  b.observe(10 * usd);
  b.set_override(budget_override::force);
  CHECK(b.reconfigure(2 * budget, false).empty());
  CHECK(b.override_mode() == budget_override::force);
  CHECK(b.mode() == budget_mode::throttled);
}
