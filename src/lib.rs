//! otc-acme-hook: ACME DNS-01 hooks for Open Telekom Cloud DNS, signed with
//! the temporary credentials of an ECS agency.
#![forbid(unsafe_code)]

pub mod sim;
