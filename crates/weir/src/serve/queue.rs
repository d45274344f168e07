//! The hand-over from the readers to one decoder shard: a bounded channel of [`RawBatch`]es and a budget
//! of bytes. Counting batches alone would let an exporter of 64 KiB datagrams park gigabytes in a queue;
//! the byte budget bounds what is held whatever the datagrams' size.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::receiver::RawBatch;

/// The sending side, one clone per reader.
#[derive(Debug, Clone)]
pub struct QueueTx {
    tx: Sender<RawBatch>,
    bytes: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The receiving side, for the shard and for `/metrics`.
#[derive(Debug, Clone)]
pub struct QueueRx {
    rx: Receiver<RawBatch>,
    bytes: Arc<AtomicUsize>,
}

/// A queue of at most `batches` batches and `max_bytes` bytes of datagrams.
pub fn queue(batches: usize, max_bytes: usize) -> (QueueTx, QueueRx) {
    let (tx, rx) = bounded(batches);
    let bytes = Arc::new(AtomicUsize::new(0));
    (
        QueueTx {
            tx,
            bytes: bytes.clone(),
            max_bytes,
        },
        QueueRx { rx, bytes },
    )
}

impl QueueTx {
    /// Hands a batch over without waiting; gives it back if the queue is full (or the shard is gone).
    pub fn offer(&self, batch: RawBatch) -> Result<(), RawBatch> {
        let n = batch.bytes();
        if self.bytes.fetch_add(n, Ordering::Relaxed) + n > self.max_bytes {
            self.bytes.fetch_sub(n, Ordering::Relaxed);
            return Err(batch);
        }
        self.tx.try_send(batch).map_err(|e| {
            self.bytes.fetch_sub(n, Ordering::Relaxed);
            e.into_inner()
        })
    }
}

impl QueueRx {
    /// The underlying channel, to receive from.
    pub fn channel(&self) -> &Receiver<RawBatch> {
        &self.rx
    }

    /// Marks a received batch as done with, returning its bytes to the budget.
    pub fn done(&self, batch: &RawBatch) {
        self.bytes.fetch_sub(batch.bytes(), Ordering::Relaxed);
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Batches the queue holds at most.
    pub fn capacity(&self) -> usize {
        self.rx.capacity().unwrap_or(0)
    }

    /// Bytes of datagrams waiting (or being decoded).
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(sizes: &[usize]) -> RawBatch {
        let mut b = RawBatch::new(0);
        for &n in sizes {
            b.push("192.0.2.1".parse().unwrap(), &vec![0; n]);
        }
        b
    }

    #[test]
    fn bounds_batches_and_bytes() {
        let (tx, rx) = queue(2, 1000);
        assert!(tx.offer(batch(&[600])).is_ok());
        let refused = tx.offer(batch(&[300, 200])).unwrap_err();
        assert_eq!(refused.len(), 2, "over the byte budget: given back whole");
        assert!(tx.offer(batch(&[400])).is_ok());
        assert_eq!((rx.len(), rx.bytes()), (2, 1000));
        assert!(tx.offer(batch(&[])).is_err(), "two batches at most");
        let b = rx.channel().recv().unwrap();
        rx.done(&b);
        assert_eq!(rx.bytes(), 400);
        assert!(tx.offer(batch(&[600])).is_ok());
    }

    #[test]
    fn a_gone_shard_gives_the_batch_back() {
        let (tx, rx) = queue(2, 1000);
        drop(rx);
        assert!(tx.offer(batch(&[10])).is_err());
    }
}
