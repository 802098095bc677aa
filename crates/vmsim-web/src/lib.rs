//! vmsim's web face: a run shown as one self-contained HTML page.
//!
//! [`report::render`] turns a run's [`vmsim_sim::RunReport`], its machine and the page-stream
//! analyses of its trace ([`pages::PageAnalysis`]) into a single HTML file that loads nothing
//! from the network: the style sheet, the script and the data are inline. The data is the run's
//! JSON (the same serde form `vmsim run --json` prints) embedded once, in a
//! `<script type="application/json">` block; the page's own script draws every table and chart
//! from it, inserting text only through `textContent`. The page's assets are files under
//! `assets/`, compiled in with `include_str!`.
//!
//! [`serve::Server`] is `vmsim serve`: a local web server whose explorer page translates
//! addresses on machines held by the server, through a JSON API answered by `vmsim-sim`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod pages;
pub mod report;
pub mod serve;

pub use error::WebError;
pub use pages::{PageAnalysis, PageOptions};
pub use report::render;
