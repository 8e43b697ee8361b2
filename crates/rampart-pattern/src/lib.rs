//! CloudWatch Logs filter patterns: parse and evaluate them against JSON log events.
