//! MRU: evict the most recently used page; best on loops larger than memory (Chou and DeWitt,
//! VLDB 1985). [`Policy::resident`](super::Policy::resident) lists pages least recently used
//! first (the victim is the last).

/// Most recently used: recency order, victim at the newest end.
pub type Mru = super::ordered::Ordered<true, true>;
