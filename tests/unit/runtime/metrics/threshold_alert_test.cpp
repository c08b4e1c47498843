#include "runtime/metrics/threshold_alert.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

TEST_CASE("an alert is raised once per crossing and cleared with "
          "hysteresis") {
  threshold_alert a{800, 0.8};
  CHECK(a.observe(700, true) == alert_transition::none);
  CHECK(a.observe(900, true) == alert_transition::raised);
  CHECK(a.active());
  // Still above: no second alert for the same crossing.
  CHECK(a.observe(1000, true) == alert_transition::none);
  // Below the threshold but above 640: hysteresis holds it.
  CHECK(a.observe(700, true) == alert_transition::none);
  CHECK(a.active());
  CHECK(a.observe(600, true) == alert_transition::cleared);
  CHECK_FALSE(a.active());
  CHECK(a.observe(900, true) == alert_transition::raised);
}

TEST_CASE("an alert ignores observations without enough data") {
  threshold_alert a{0.05, 0.8};
  CHECK(a.observe(1.0, false) == alert_transition::none);
  CHECK_FALSE(a.active());
}

TEST_CASE("a reconfigured alert keeps its state and judges the next value "
          "against the new threshold") {
  threshold_alert a{800, 0.8};
  CHECK(a.observe(600, true) == alert_transition::none);
  a.reconfigure(500, 0.8);
  CHECK(a.threshold() == 500);
  CHECK(a.observe(600, true) == alert_transition::raised);
  a.reconfigure(1000, 0.5); // clears below 500
  CHECK(a.active());
  CHECK(a.observe(600, true) == alert_transition::none);
  CHECK(a.observe(400, true) == alert_transition::cleared);
}
