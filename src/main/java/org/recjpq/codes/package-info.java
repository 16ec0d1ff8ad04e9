/**
 * RecJPQ item codes (docs/method.md §3): every item gets m bytes, one sub-id in 0..255 per split,
 * assigned before training from the training interactions (SVD, BPR) or at random, and saved in a
 * codes file tied to the dataset's item vocabulary. Codes are the whole per-item state of a RecJPQ
 * model, so assignment is deterministic for a seed and scales to millions of items.
 */
package org.recjpq.codes;
