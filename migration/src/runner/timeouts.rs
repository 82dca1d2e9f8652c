//! How long the runner waits: a leaf that the connection (which applies
//! the timeout) and the errors (which say it) both read.

use std::time::Duration;

/// How long connecting may take before the run gives up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
