package org.recjpq.train;

import org.recjpq.UsageException;
import org.recjpq.model.LossKind;

/**
 * How to train.
 *
 * @param loss ce (exact full softmax), bce, gbce or sampled-softmax
 * @param negatives negatives per position for the sampled losses
 * @param gbceT gBCE calibration t
 * @param batchSize sequences per step
 * @param epochs maximum number of passes over the training examples
 * @param learningRate peak Adam step
 * @param beta1 Adam β1
 * @param beta2 Adam β2 (SASRec: 0.98)
 * @param eps Adam ε (after the square root)
 * @param weightDecay decoupled weight decay (0 = Adam)
 * @param clipNorm clip the global gradient norm to this (0 = off)
 * @param warmupSteps linear warm-up steps
 * @param schedule constant, linear (decay to 0 at the last epoch) or cosine; with {@code
 *     maxSeconds}, a decay ends at the epochs the time holds when fewer (see {@link Trainer#run})
 * @param seed seed of initialisation, data order, dropout and negatives
 * @param validateEvery validate every this many epochs
 * @param patience stop after this many validations without improvement (0 = never)
 * @param slidingWindows also train on earlier windows of long sequences
 * @param maxSeconds stop training after this wall time (0 = no limit)
 * @param maskProbability masked-item training (BERT4Rec): the chance that an item is masked
 * @param maskLastProbability masked-item training: the chance that a sequence's last item is masked
 *     too, whatever the draws gave it (the inference task: the position after the history). 0, the
 *     default, is BERT4Rec's plain masking.
 * @param lengthBuckets batch training examples of similar length together (sorted within chunks of
 *     {@link SequenceBatches#BUCKET_BATCHES} shuffled batches, then the batches shuffled) and run
 *     each batch on the slots its longest example uses: the same model and loss per example, far
 *     less work on short histories (PAD slots change nothing at the other positions)
 */
public record TrainConfig(
    LossKind loss,
    int negatives,
    double gbceT,
    int batchSize,
    int epochs,
    float learningRate,
    float beta1,
    float beta2,
    float eps,
    float weightDecay,
    float clipNorm,
    int warmupSteps,
    Schedule schedule,
    long seed,
    int validateEvery,
    int patience,
    boolean slidingWindows,
    double maxSeconds,
    double maskProbability,
    double maskLastProbability,
    boolean lengthBuckets,
    float itemLrScale,
    float itemWeightDecay) {

  /** Learning-rate schedule after warm-up. */
  public enum Schedule {
    CONSTANT,
    LINEAR,
    COSINE
  }

  public TrainConfig {
    if (loss == null) {
      loss = LossKind.CE;
    }
    if (loss.sampled() && negatives < 1) {
      throw new UsageException(
          "The loss " + loss.cliName() + " needs at least one negative, found " + negatives + ".");
    }
    if (batchSize < 1 || epochs < 1 || validateEvery < 1 || patience < 0 || warmupSteps < 0) {
      throw new UsageException(
          "Training sizes must be positive: batch "
              + batchSize
              + ", epochs "
              + epochs
              + ", validate every "
              + validateEvery
              + ", patience "
              + patience
              + ", warm-up "
              + warmupSteps
              + ".");
    }
    if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
      throw new UsageException(
          "The learning rate must be a positive number, found " + learningRate + ".");
    }
    if (clipNorm < 0 || weightDecay < 0) {
      throw new UsageException("Gradient clipping and weight decay must be 0 or more.");
    }
    if (!(maskProbability > 0 && maskProbability < 1)) {
      throw new UsageException(
          "The mask probability must be between 0 and 1 (exclusive), found "
              + maskProbability
              + ".");
    }
    if (!(maskLastProbability >= 0 && maskLastProbability <= 1)) {
      throw new UsageException(
          "The mask-last probability must be between 0 and 1, found " + maskLastProbability + ".");
    }
    if (schedule == null) {
      schedule = Schedule.CONSTANT;
    }
    if (!(itemLrScale > 0) || Float.isInfinite(itemLrScale)) {
      throw new UsageException(
          "The item learning-rate scale must be a positive number, found " + itemLrScale + ".");
    }
    if (!(beta1 >= 0 && beta1 < 1)
        || !(beta2 >= 0 && beta2 < 1)
        || !(eps > 0)
        || Float.isInfinite(eps)) {
      throw new UsageException(
          "Adam needs 0 <= beta1, beta2 < 1 and eps > 0, found "
              + beta1
              + ", "
              + beta2
              + ", "
              + eps
              + ".");
    }
  }

  /** This configuration with another wall-time limit ({@code maxSeconds}). */
  public TrainConfig withMaxSeconds(double seconds) {
    return new TrainConfig(
        loss,
        negatives,
        gbceT,
        batchSize,
        epochs,
        learningRate,
        beta1,
        beta2,
        eps,
        weightDecay,
        clipNorm,
        warmupSteps,
        schedule,
        seed,
        validateEvery,
        patience,
        slidingWindows,
        seconds,
        maskProbability,
        maskLastProbability,
        lengthBuckets,
        itemLrScale,
        itemWeightDecay);
  }

  /** The weight decay of the item-side tensors: their own, or the model's. */
  public float itemDecay() {
    return itemWeightDecay >= 0 ? itemWeightDecay : weightDecay;
  }

  /** Whether the item side has its own learning rate or weight decay. */
  public boolean separateItemOptimizer() {
    return itemLrScale != 1f || itemDecay() != weightDecay;
  }

  /**
   * The epoch at which a decay ends when {@code epochsDone} took their time and {@code secondsLeft}
   * remain at {@code epochSeconds} an epoch: the epochs done plus those that fit, at least 1; 0
   * when that is not fewer than {@code epochs} (the configured length stands).
   */
  public static int fittedHorizon(
      int epochsDone, int epochs, double secondsLeft, double epochSeconds) {
    long fits = epochsDone + (long) Math.floor(Math.max(0, secondsLeft) / epochSeconds);
    return fits < epochs ? (int) Math.max(1, fits) : 0;
  }

  /** The learning rate at 0-based {@code step} of {@code totalSteps}. */
  public float learningRateAt(long step, long totalSteps) {
    if (warmupSteps > 0 && step < warmupSteps) {
      return learningRate * (step + 1) / warmupSteps;
    }
    long span = Math.max(1, totalSteps - warmupSteps);
    double progress = Math.min(1.0, (step - warmupSteps) / (double) span);
    return switch (schedule) {
      case CONSTANT -> learningRate;
      case LINEAR -> (float) (learningRate * (1.0 - progress));
      case COSINE -> (float) (learningRate * 0.5 * (1.0 + Math.cos(Math.PI * progress)));
    };
  }
}
