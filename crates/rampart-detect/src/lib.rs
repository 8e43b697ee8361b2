//! CloudTrail detection: rule IR, built-in rules, Sigma and filter-pattern rules, baselines, alert sinks.
