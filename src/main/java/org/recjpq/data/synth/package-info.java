/**
 * Synthetic interaction data with planted sequential structure, for tests, scale checks and
 * benchmarks where no real log is at hand or none is large enough.
 *
 * <p>{@link org.recjpq.data.synth.SyntheticGenerator} writes SASRec {@code user item} pairs from a
 * {@link org.recjpq.data.synth.SynthConfig}: Zipf-weighted items in clusters, users walking a
 * sparse hidden Markov chain over the clusters. The output is a pure function of the configuration
 * (seed included), streams to disk with memory O(items + clusters), and holds structure that a
 * sequential model can learn and a popularity baseline cannot.
 */
package org.recjpq.data.synth;
