//! The only crate on the AWS SDK: credentials, AssumeRole, region fan-out, rate limits, collectors.
