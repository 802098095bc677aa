//! FIFO: evict the page resident longest, whatever its use (Belady, IBM Systems Journal 1966).
//! [`Policy::resident`](super::Policy::resident) lists pages oldest first (first victim first).

/// First in, first out: insertion order, victim at the oldest end.
pub type Fifo = super::ordered::Ordered<false, false>;
