/**
 * Training: batches of sequences from the training part of a dataset, negatives, the optimizer and
 * schedule, the loop with validation, early stopping and reports.
 */
package org.recjpq.train;
