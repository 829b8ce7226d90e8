//! One integration-test binary; each module is an area of behaviour.

mod conformance;
