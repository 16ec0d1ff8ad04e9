/**
 * Interaction data: readers for the raw formats, the item and user vocabularies, filtering,
 * chronological ordering, the leave-one-out split and the binary dataset cache.
 *
 * <p>Everything downstream (codes, models, evaluation) sees a {@link
 * org.recjpq.data.SequenceDataset}: contiguous internal user and item ids with the vocabularies to
 * map them back, and each user's items in time order in one flat array. Readers keep memory
 * proportional to the number of interactions in primitive arrays, so logs of hundreds of millions
 * of interactions fit.
 */
package org.recjpq.data;
