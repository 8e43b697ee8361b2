//! Renders findings: table, JSON, CSV, SARIF, OCSF, ASFF and a self-contained HTML report.
