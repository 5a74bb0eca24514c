//! Decoding a `find`'s matches on a second thread while the scan goes on,
//! and on both threads once the scan is done.
//!
//! The scan appends each match's bytes to a batch (64 KiB, a few dozen
//! runs) and queues whole batches, numbered; a decoder thread takes them
//! from the front. Sending each match as its own buffer cost an allocation
//! and a wake-up per match, and a free into another thread's malloc arena.
//!
//! Decoding a run into a `bson::Document` (an allocation and a hash insert
//! per field) can cost more than finding it: for runs with long metric
//! histories it is twice the scan. So the scanning thread decodes too:
//! a batch itself whenever the queue is full (which also bounds memory),
//! and the rest of the queue alongside the decoder once the scan is over.
//! The batches' numbers put the documents back in order.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{Scope, ScopedJoinHandle};

use anyhow::Context;
use bson::{Document, RawDocument};

use super::decode_raw as decode;

/// How many bytes of matching runs make a batch.
const BATCH_BYTES: usize = 64 * 1024;

/// How many full batches may wait for the decoder; past that the scanning
/// thread decodes one itself.
const QUEUED_BATCHES: usize = 16;

/// Batches decoded, each with its number.
type Decoded = Vec<(usize, Vec<Document>)>;

/// What the two threads share.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a batch is queued or the queue is closed.
    queued: Condvar,
}

#[derive(Default)]
struct Queue {
    batches: VecDeque<(usize, Vec<u8>)>,
    /// No batch will be queued any more.
    closed: bool,
    /// Emptied buffers, for the next batches.
    spare: Vec<Vec<u8>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing is left half-done while the lock is held.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the next batch, if any is queued.
    fn take(&self) -> Option<(usize, Vec<u8>)> {
        self.lock().batches.pop_front()
    }

    /// Decodes a batch and keeps its buffer for reuse.
    fn decode(
        &self,
        (number, mut batch): (usize, Vec<u8>),
        out: &mut Decoded,
    ) -> anyhow::Result<()> {
        out.push((number, decode_batch(&batch)?));
        batch.clear();
        self.lock().spare.push(batch);
        Ok(())
    }
}

/// The scanning side of a decoder thread.
pub(super) struct Decoder<'scope> {
    shared: Arc<Shared>,
    /// The batch being filled, and its number.
    batch: Vec<u8>,
    number: usize,
    /// What this (the scanning) thread decoded.
    decoded: Decoded,
    /// The decoder thread, which returns what it decoded (taken by
    /// `finish`).
    thread: Option<ScopedJoinHandle<'scope, anyhow::Result<Decoded>>>,
}

impl Drop for Decoder<'_> {
    /// Closes the queue, so that the decoder thread ends even if `finish`
    /// is never called (an unwinding panic): its scope waits for it.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.queued.notify_all();
    }
}

impl<'scope> Decoder<'scope> {
    /// Starts a decoder thread in `scope`.
    pub(super) fn spawn(scope: &'scope Scope<'scope, '_>) -> Decoder<'scope> {
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = scope.spawn(move || decode_queued(&theirs));
        Decoder {
            shared,
            batch: Vec::with_capacity(BATCH_BYTES),
            number: 0,
            decoded: Vec::new(),
            thread: Some(thread),
        }
    }

    /// Queues one document for decoding, after those queued before it.
    pub(super) fn push(&mut self, raw: &RawDocument) -> anyhow::Result<()> {
        let bytes = raw.as_bytes();
        // Sent before it would grow: a reallocated batch is a copy of it,
        // and a buffer the size of the next power of two.
        if !self.batch.is_empty() && self.batch.len() + bytes.len() > self.batch.capacity() {
            self.send()?;
        }
        self.batch.extend_from_slice(bytes);
        Ok(())
    }

    /// Queues the batch being filled and starts another; decodes the
    /// oldest queued batch here if the decoder is behind.
    fn send(&mut self) -> anyhow::Result<()> {
        let mut queue = self.shared.lock();
        let empty = queue
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES));
        let full = std::mem::replace(&mut self.batch, empty);
        queue.batches.push_back((self.number, full));
        self.number += 1;
        let behind = (queue.batches.len() > QUEUED_BATCHES)
            .then(|| queue.batches.pop_front())
            .flatten();
        drop(queue);
        self.shared.queued.notify_one();
        if let Some(oldest) = behind {
            self.shared.decode(oldest, &mut self.decoded)?;
        }
        Ok(())
    }

    /// Every document queued, decoded, in order.
    pub(super) fn finish(mut self) -> anyhow::Result<Vec<Document>> {
        let sent = if self.batch.is_empty() {
            Ok(())
        } else {
            self.send()
        };
        self.shared.lock().closed = true;
        self.shared.queued.notify_all();
        // The scan is over: help with what is left.
        let mut helped = sent;
        while helped.is_ok() {
            let Some(batch) = self.shared.take() else {
                break;
            };
            helped = self.shared.decode(batch, &mut self.decoded);
        }
        let theirs = match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the decoding thread panicked"))),
            None => Ok(Vec::new()),
        };
        helped?;
        let mut all = theirs?;
        all.append(&mut std::mem::take(&mut self.decoded));
        all.sort_unstable_by_key(|(number, _)| *number);
        Ok(all.into_iter().flat_map(|(_, docs)| docs).collect())
    }
}

/// The decoder thread: decodes queued batches until the queue is closed
/// and empty.
fn decode_queued(shared: &Shared) -> anyhow::Result<Decoded> {
    let mut decoded = Vec::new();
    loop {
        let mut queue = shared.lock();
        let next = loop {
            if let Some(batch) = queue.batches.pop_front() {
                break batch;
            }
            if queue.closed {
                return Ok(decoded);
            }
            queue = shared
                .queued
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        };
        drop(queue);
        shared.decode(next, &mut decoded)?;
    }
}

/// The documents of one batch, in order.
fn decode_batch(batch: &[u8]) -> anyhow::Result<Vec<Document>> {
    let mut docs = Vec::new();
    let mut rest = batch;
    while !rest.is_empty() {
        let (doc, after) = split_document(rest)?;
        docs.push(decode(doc)?);
        rest = after;
    }
    Ok(docs)
}

/// The document at the start of `bytes` (each starts with its length), and
/// the bytes after it.
fn split_document(bytes: &[u8]) -> anyhow::Result<(&RawDocument, &[u8])> {
    let corrupt = || anyhow::anyhow!("a batch of run documents is corrupt");
    let prefix: [u8; 4] = bytes
        .get(..4)
        .and_then(|p| p.try_into().ok())
        .ok_or_else(corrupt)?;
    let len = usize::try_from(i32::from_le_bytes(prefix)).map_err(|_| corrupt())?;
    let (doc, after) = bytes.split_at_checked(len).ok_or_else(corrupt)?;
    let doc = RawDocument::from_bytes(doc).context("a stored run document is corrupt")?;
    Ok((doc, after))
}

#[cfg(test)]
mod tests {
    use bson::{doc, RawDocumentBuf};

    use super::*;

    /// `docs` pushed through a decoder, and what comes out.
    fn through_a_decoder(docs: &[Document]) -> Vec<Document> {
        std::thread::scope(|scope| {
            let mut decoder = Decoder::spawn(scope);
            for doc in docs {
                decoder
                    .push(&RawDocumentBuf::try_from(doc).unwrap())
                    .unwrap();
            }
            decoder.finish()
        })
        .unwrap()
    }

    #[test]
    fn decodes_every_document_in_order_across_batches() {
        let docs: Vec<Document> = (0..500)
            .map(|i: i32| doc! { "_id": i, "pad": "x".repeat((i * 7 % 900) as usize) })
            .collect();
        assert_eq!(through_a_decoder(&docs), docs);
    }

    #[test]
    fn order_holds_when_both_threads_decode() {
        // 6 MB: far more batches than the queue holds, so the scanning
        // thread decodes some itself, and helps at the end.
        let docs: Vec<Document> = (0..6000)
            .map(|i: i32| doc! { "_id": i, "pad": "y".repeat(1000) })
            .collect();
        assert_eq!(through_a_decoder(&docs), docs);
    }

    #[test]
    fn a_decoder_dropped_unfinished_lets_its_scope_end() {
        std::thread::scope(|scope| {
            let mut decoder = Decoder::spawn(scope);
            decoder
                .push(&RawDocumentBuf::try_from(&doc! { "a": 1 }).unwrap())
                .unwrap();
            drop(decoder);
        });
    }

    #[test]
    fn nothing_queued_decodes_to_nothing() {
        let decoded = std::thread::scope(|scope| Decoder::spawn(scope).finish()).unwrap();
        assert!(decoded.is_empty());
    }

    #[test]
    fn truncated_batches_are_errors() {
        let raw = RawDocumentBuf::try_from(&doc! { "a": 1 }).unwrap();
        let bytes = raw.as_bytes();
        assert!(split_document(&bytes[..bytes.len() - 1]).is_err());
        assert!(split_document(&bytes[..2]).is_err());
        let (doc, rest) = split_document(bytes).unwrap();
        assert_eq!(doc.as_bytes(), bytes);
        assert!(rest.is_empty());
    }
}
