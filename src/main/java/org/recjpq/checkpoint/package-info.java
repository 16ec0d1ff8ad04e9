/**
 * Checkpoints (docs/architecture.md §8): everything needed to serve a trained model (configuration,
 * item vocabulary, codes, parameters) and, optionally, to resume training bit-exactly (Adam
 * moments, step, epoch position, data order seed, best validation state).
 */
package org.recjpq.checkpoint;
