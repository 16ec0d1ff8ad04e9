/**
 * The models as straight-line forward and backward scripts over {@link org.recjpq.backend.Ops} (no
 * autograd): a reader sees the network as a list of calls. Parameters, gradients and optimizer
 * state are each one flat buffer carved by a {@link org.recjpq.model.ParameterLayout}; activations
 * live in an {@link org.recjpq.model.Arena} sized once per (batch, length).
 */
package org.recjpq.model;
