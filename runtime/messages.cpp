#include "runtime/messages.hpp"

#include <caf/actor_system_config.hpp>

namespace streamb {

const char* to_string(status_class x) {
  switch (x) {
    case status_class::ok: return "ok";
    case status_class::client_error: return "client_error";
    case status_class::rate_limited: return "rate_limited";
    case status_class::server_error: return "server_error";
    case status_class::timeout: return "timeout";
    case status_class::network: return "network";
  }
  return "unknown";
}

status_class classify_http_status(int code) {
  if (code == 429)
    return status_class::rate_limited;
  if (code >= 500)
    return status_class::server_error;
  if (code >= 400)
    return status_class::client_error;
  return status_class::ok;
}

const char* to_string(metrics_window x) {
  switch (x) {
    case metrics_window::one_minute: return "1m";
    case metrics_window::five_minutes: return "5m";
    case metrics_window::one_hour: return "1h";
  }
  return "unknown";
}

bool parse_metrics_window(const std::string& text, metrics_window& out) {
  for (auto w : {metrics_window::one_minute, metrics_window::five_minutes,
                 metrics_window::one_hour}) {
    if (text == to_string(w)) {
      out = w;
      return true;
    }
  }
  return false;
}

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<coordination_event>("coordination_event");
  cfg.add_message_type<outbound_message>("outbound_message");
  cfg.add_message_type<endpoint_stats>("endpoint_stats");
  cfg.add_message_type<event_response>("event_response");
  cfg.add_message_type<std::vector<coordination_event>>("coordination_events");
  cfg.add_message_type<std::vector<event_response>>("event_responses");
  cfg.add_message_type<agent_registration>("agent_registration");
  cfg.add_message_type<agent_welcome>("agent_welcome");
  cfg.add_message_type<cluster_directory>("cluster_directory");
  cfg.add_message_type<agent_status>("agent_status");
  cfg.add_message_type<event_type_stats>("event_type_stats");
  cfg.add_message_type<coordination_status>("coordination_status");
  cfg.add_message_type<event_delivery>("event_delivery");
  cfg.add_message_type<event_record>("event_record");
  cfg.add_message_type<std::vector<agent_status>>("agent_statuses");
  cfg.add_message_type<std::vector<event_type_stats>>("event_type_stats_list");
  cfg.add_message_type<std::vector<event_delivery>>("event_deliveries");
  cfg.add_message_type<agent_endpoint_actor>("agent_endpoint_actor");
  cfg.add_message_type<agent_finding>("agent_finding");
  cfg.add_message_type<agent_findings>("agent_findings");
  cfg.add_message_type<hub_observer_actor>("hub_observer_actor");
  cfg.add_message_type<call_sample>("call_sample");
  cfg.add_message_type<call_samples>("call_samples");
  cfg.add_message_type<service_alert>("service_alert");
  cfg.add_message_type<service_metrics>("service_metrics");
  cfg.add_message_type<call_totals>("call_totals");
  cfg.add_message_type<status_class>("status_class");
  cfg.add_message_type<metrics_window>("metrics_window");
  cfg.add_message_type<store::field_list>("field_list");
  cfg.add_message_type<store::stream_entry>("stream_entry");
  cfg.add_message_type<store::stream_trim>("stream_trim");
  cfg.add_message_type<stream_entries>("stream_entries");
  cfg.add_message_type<store::write_op>("write_op");
  cfg.add_message_type<write_ops>("write_ops");
  cfg.add_message_type<store::write_result>("write_result");
  cfg.add_message_type<write_results>("write_results");
  cfg.add_message_type<store::pending_entry>("pending_entry");
  cfg.add_message_type<pending_entries>("pending_entries");
  cfg.add_message_type<webhook_event>("webhook_event");
  cfg.add_message_type<webhook_events>("webhook_events");
  cfg.add_message_type<delivery_verdicts>("delivery_verdicts");
  cfg.add_message_type<accept_outcome>("accept_outcome");
  cfg.add_message_type<accept_outcomes>("accept_outcomes");
  cfg.add_message_type<webhook_rejection>("webhook_rejection");
  cfg.add_message_type<webhook_stats>("webhook_stats");
  cfg.add_message_type<webhook_stats_list>("webhook_stats_list");
  cfg.add_message_type<admission_request>("admission_request");
  cfg.add_message_type<admission_decision>("admission_decision");
  cfg.add_message_type<call_spend>("call_spend");
  cfg.add_message_type<budget_status>("budget_status");
  cfg.add_message_type<usage_profile>("usage_profile");
  cfg.add_message_type<recommendation>("recommendation");
  cfg.add_message_type<recommendations>("recommendations");
  cfg.add_message_type<limit_change>("limit_change");
  cfg.add_message_type<limit_changes>("limit_changes");
  cfg.add_message_type<optimize_request>("optimize_request");
  cfg.add_message_type<std::vector<status_class>>("status_classes");
}

} // namespace streamb
