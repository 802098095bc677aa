//! Exact LRU: evict the page whose last reference is oldest (Mattson et al., IBM Systems Journal
//! 1970). [`Policy::resident`](super::Policy::resident) lists pages least recently used first.

/// Least recently used: recency order, victim at the oldest end.
pub type Lru = super::ordered::Ordered<true, false>;
