//! Decoding a `find`'s matches on a second thread while the scan goes on.
//!
//! The scan appends each match's bytes to a batch and hands the decoder
//! whole batches (64 KiB, a few dozen runs), which the decoder hands back
//! empty for reuse. Sending each match as its own buffer cost an allocation
//! and a wake-up of the decoder per match, and each buffer, allocated by the
//! scanning thread, was freed by the decoder: a free into another thread's
//! malloc arena, under that arena's lock, contended by the scan's own
//! allocations.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use anyhow::Context;
use bson::{Document, RawDocument};

use super::decode_raw as decode;

/// How many bytes of matching runs make a batch.
const BATCH_BYTES: usize = 64 * 1024;

/// How many full batches may wait for the decoder before the scan waits.
const QUEUED_BATCHES: usize = 16;

/// The scanning side of a decoder thread.
pub(super) struct Decoder<'scope> {
    /// Full batches, to the decoder.
    batches: SyncSender<Vec<u8>>,
    /// Emptied batches, back from the decoder.
    emptied: Receiver<Vec<u8>>,
    /// The batch being filled.
    batch: Vec<u8>,
    /// The decoder, which returns every document it decoded, in order.
    thread: ScopedJoinHandle<'scope, anyhow::Result<Vec<Document>>>,
}

impl<'scope> Decoder<'scope> {
    /// Starts a decoder thread in `scope`.
    pub(super) fn spawn(scope: &'scope Scope<'scope, '_>) -> Decoder<'scope> {
        let (batches, receive) = mpsc::sync_channel(QUEUED_BATCHES);
        let (give_back, emptied) = mpsc::channel();
        let thread = scope.spawn(move || decode_batches(&receive, &give_back));
        Decoder {
            batches,
            emptied,
            batch: Vec::with_capacity(BATCH_BYTES),
            thread,
        }
    }

    /// Queues one document for decoding, after those queued before it.
    pub(super) fn push(&mut self, raw: &RawDocument) {
        let bytes = raw.as_bytes();
        // Sent before it would grow: a reallocated batch is a copy of it,
        // and a buffer the size of the next power of two.
        if !self.batch.is_empty() && self.batch.len() + bytes.len() > self.batch.capacity() {
            let empty = self
                .emptied
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH_BYTES));
            let full = std::mem::replace(&mut self.batch, empty);
            // The decoder only stops early on an error, which `finish`
            // reports.
            let _ = self.batches.send(full);
        }
        self.batch.extend_from_slice(bytes);
    }

    /// Every document queued, decoded, in order.
    pub(super) fn finish(self) -> anyhow::Result<Vec<Document>> {
        if !self.batch.is_empty() {
            let _ = self.batches.send(self.batch);
        }
        drop(self.batches);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the decoding thread panicked")))
    }
}

/// The decoder thread: decodes the batches coming down `batches` and gives
/// each back emptied.
fn decode_batches(
    batches: &Receiver<Vec<u8>>,
    give_back: &mpsc::Sender<Vec<u8>>,
) -> anyhow::Result<Vec<Document>> {
    let mut docs = Vec::new();
    for mut batch in batches {
        let mut rest = batch.as_slice();
        while !rest.is_empty() {
            let (doc, after) = split_document(rest)?;
            docs.push(decode(doc)?);
            rest = after;
        }
        batch.clear();
        // The scan may be done and gone: then the buffer is simply freed.
        let _ = give_back.send(batch);
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

    #[test]
    fn decodes_every_document_in_order_across_batches() {
        let docs: Vec<Document> = (0..500)
            .map(|i: i32| doc! { "_id": i, "pad": "x".repeat((i * 7 % 900) as usize) })
            .collect();
        let decoded = std::thread::scope(|scope| {
            let mut decoder = Decoder::spawn(scope);
            for doc in &docs {
                decoder.push(&RawDocumentBuf::try_from(doc).unwrap());
            }
            decoder.finish()
        })
        .unwrap();
        assert_eq!(decoded, docs);
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
