//! Frame slots allocated once, and the lock-free rings that pass slot numbers between
//! the capture thread and the worker.
//!
//! Frames never move: a [`FramePool`] owns every frame buffer from start-up, and the
//! threads hand each other slot *numbers* through [`SlotRing`]s. Two rings make the
//! cycle: `free` (worker → capture) and `ready` (capture → worker). Each has exactly
//! one producer and one consumer; the only extra move is [`SlotRing::evict_oldest`],
//! with which the *producer* of `ready` takes back the oldest queued frame when the
//! worker has fallen behind (the live policy: drop the oldest, keep the newest).

use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::capture::Frame;
use crate::{Error, Result};

/// A bounded single-producer/single-consumer queue of slot numbers, preallocated.
///
/// `head` and `tail` count pops and pushes since creation (they never wrap in
/// practice: 2^64 frames), so a slot of `cells` is `cells[count % capacity]`. Popping
/// is a compare-and-swap on `head`, which lets the producer evict the oldest entry
/// while the consumer may be popping it: exactly one of them wins it.
#[derive(Debug)]
pub struct SlotRing {
    cells: Box<[AtomicUsize]>,
    head: AtomicU64,
    tail: AtomicU64,
}

impl SlotRing {
    /// An empty ring holding up to `capacity` slot numbers.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "ring capacity must be positive");
        SlotRing {
            cells: (0..capacity).map(|_| AtomicUsize::new(0)).collect(),
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
        }
    }

    pub fn capacity(&self) -> usize {
        self.cells.len()
    }

    /// Entries queued now (a snapshot).
    pub fn len(&self) -> usize {
        let tail = self.tail.load(Ordering::Acquire);
        let head = self.head.load(Ordering::Acquire);
        tail.saturating_sub(head) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn cell(&self, count: u64) -> &AtomicUsize {
        &self.cells[(count % self.cells.len() as u64) as usize]
    }

    /// Producer only: queues `slot`, or gives it back when the ring is full.
    pub fn push(&self, slot: usize) -> std::result::Result<(), usize> {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        if tail - head >= self.cells.len() as u64 {
            return Err(slot);
        }
        self.cell(tail).store(slot, Ordering::Relaxed);
        // Release: the slot number (and the frame written before it) is visible to the
        // consumer that sees the new tail.
        self.tail.store(tail + 1, Ordering::Release);
        Ok(())
    }

    /// Consumer (or, through [`Self::evict_oldest`], the producer): takes the oldest entry.
    pub fn pop(&self) -> Option<usize> {
        loop {
            let head = self.head.load(Ordering::Acquire);
            let tail = self.tail.load(Ordering::Acquire);
            if head >= tail {
                return None;
            }
            let slot = self.cell(head).load(Ordering::Relaxed);
            // Whoever moves head from `head` owns the entry read above: the producer
            // cannot have overwritten that cell yet, because it only writes cells at
            // counts >= head + capacity, and head has not moved.
            if self
                .head
                .compare_exchange(head, head + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Some(slot);
            }
        }
    }

    /// Producer only: takes back the oldest queued entry (to reuse its frame for a newer
    /// one). Races with the consumer's [`Self::pop`] safely.
    pub fn evict_oldest(&self) -> Option<usize> {
        self.pop()
    }
}

/// Every frame buffer of a run, allocated at start-up.
///
/// A slot is owned by one thread at a time (the one that popped its number); the mutex
/// is never contended and only makes that ownership checkable in safe code.
#[derive(Debug)]
pub struct FramePool {
    slots: Box<[Mutex<Frame>]>,
}

impl FramePool {
    /// `count` frames of `width`×`height` gray pixels.
    pub fn new(count: usize, width: usize, height: usize) -> Result<Self> {
        if count == 0 {
            return Err(Error::bad_param("slots", "need at least one frame slot"));
        }
        let slots = (0..count)
            .map(|_| Frame::new(width, height).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(FramePool {
            slots: slots.into_boxed_slice(),
        })
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The frame in `slot`, for the thread that owns the slot number.
    pub fn frame(&self, slot: usize) -> MutexGuard<'_, Frame> {
        // A worker that panicked while holding a frame poisons it; the frame data is
        // still plain pixels, so carry on with it.
        self.slots[slot]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn push_pop_in_order_and_full() {
        let ring = SlotRing::new(3);
        assert_eq!(ring.pop(), None);
        for s in [7, 8, 9] {
            ring.push(s).unwrap();
        }
        assert_eq!(ring.push(10), Err(10));
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.pop(), Some(7));
        ring.push(10).unwrap();
        assert_eq!(ring.evict_oldest(), Some(8));
        assert_eq!(ring.pop(), Some(9));
        assert_eq!(ring.pop(), Some(10));
        assert!(ring.is_empty());
    }

    #[test]
    fn concurrent_producer_evicting_and_consumer_lose_nothing() {
        // The producer pushes numbers 0..N; when full it evicts the oldest (counting it
        // as dropped). Every number must come out exactly once: popped or evicted.
        const N: usize = 200_000;
        let ring = Arc::new(SlotRing::new(4));
        let consumer = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match ring.pop() {
                        Some(usize::MAX) => break got,
                        Some(v) => got.push(v),
                        None => std::hint::spin_loop(),
                    }
                }
            })
        };
        let mut evicted = Vec::new();
        for v in 0..N {
            while ring.push(v).is_err() {
                if let Some(old) = ring.evict_oldest() {
                    evicted.push(old);
                }
            }
        }
        while ring.push(usize::MAX).is_err() {
            std::hint::spin_loop();
        }
        let got = consumer.join().unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "consumer sees order");
        let mut all: Vec<usize> = got.into_iter().chain(evicted).collect();
        all.sort_unstable();
        assert_eq!(all, (0..N).collect::<Vec<_>>());
    }
}
