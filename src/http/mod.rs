//! The HTTP plumbing both front doors share (the API in [`crate::api`],
//! the pages in [`crate::web`]): the accept loop and its limits, request
//! ids and the log, the client's address behind trusted proxies, multipart
//! bodies streamed to disk, file downloads, rate limits that answer a
//! neutral [`crate::Error::RateLimited`] each front door words its own
//! way, and the metrics operators scrape.

pub mod client;
pub mod conn;
pub mod files;
pub mod limits;
pub mod metrics;
pub mod multipart;
pub mod problem;
pub mod request;
pub mod sign_in;
pub mod track;

pub use conn::serve;
