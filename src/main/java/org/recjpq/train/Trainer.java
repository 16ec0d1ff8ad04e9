package org.recjpq.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.recjpq.RecjpqException;
import org.recjpq.backend.Buf;
import org.recjpq.backend.CounterRng;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.eval.EvalOptions;
import org.recjpq.eval.EvaluationResult;
import org.recjpq.eval.Evaluator;
import org.recjpq.model.ItemHead;
import org.recjpq.model.LossKind;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.SequenceModel;
import org.recjpq.util.Progress;

/**
 * The training loop: epochs over shuffled training examples, one Adam step per batch, validation
 * NDCG@10 on the validation users every {@code validateEvery} epochs, early stopping with patience
 * and the best weights restored at the end.
 *
 * <p>Everything random is keyed by the seed: the data order by (seed, epoch), dropout by (seed,
 * step, site), negatives by (seed, step, row, column). So training is a pure function of the
 * configuration and the state a checkpoint saves (parameters, Adam moments, step, epoch, position
 * in the epoch, best state): resuming gives bit-identical losses.
 */
public final class Trainer {
  /** Stream of negative sampling in {@link CounterRng}. */
  static final long STREAM_NEGATIVES = 0x4E45474154L;

  private final SequenceModel model;
  private final Ops ops;
  private final SequenceDataset ds;
  private final TrainConfig tc;
  private final SequenceBatches batches;
  private final ItemHead head;
  private final int[] validationUsers;
  private final AdamOptimizer optimizer;
  private final Buf best;

  /**
   * The last parameters once {@link #run} has restored the best ones (null before, or if they are
   * the best).
   */
  private float[] iterate;

  /** Whether the best buffer holds the current parameters (no step since the last improvement). */
  private boolean bestIsIterate = true;

  private final State state = new State();
  private final List<Record> history = new ArrayList<>();
  private final int len;
  private final int rows;
  // per-step buffers
  private final int[] hostIds;
  private final int[] hostTargets;
  private final int[] hostItems;
  private final IntBuf ids;
  private final IntBuf targets;
  private final IntBuf items;
  private final Buf dH;
  private final Buf scores;
  private final Buf dScores;
  private final Buf logQ;
  private final float beta;
  private int[] order; // the current epoch's example order
  private int orderEpoch = -1;

  /** The resumable state of a run. */
  public static final class State {
    public long step;
    public int epoch;
    public int position; // examples of the current epoch already used
    public double bestMetric = Double.NEGATIVE_INFINITY;
    public int bestEpoch = -1;
    public int sinceBest;
    public boolean stopped;

    /**
     * The epochs the learning-rate decay spans, when a wall-time limit fitted it (0: the configured
     * epochs); see {@link Trainer#run}.
     */
    public int horizonEpochs;
  }

  /** One line of the learning curve. */
  public record Record(
      int epoch,
      long step,
      double trainLoss,
      double validationNdcg,
      double seconds,
      double sequencesPerSecond) {}

  public Trainer(SequenceModel model, SequenceDataset ds, TrainConfig tc, int[] validationUsers) {
    this.model = model;
    this.ops = model.ops();
    this.ds = ds;
    this.tc = tc;
    ModelConfig c = model.config();
    if (c.numItems() != ds.numItems()) {
      throw new IllegalArgumentException(
          "model for " + c.numItems() + " items, dataset has " + ds.numItems());
    }
    this.len = c.maxLen();
    this.batches = new SequenceBatches(ds, len, tc.slidingWindows());
    if (batches.size() == 0) {
      throw new RecjpqException(
          "No user has the two training interactions (before the validation target) a training"
              + " example needs ("
              + ds
              + ").");
    }
    this.head = new ItemHead(model);
    this.validationUsers = validationUsers;
    this.optimizer = new AdamOptimizer(model, tc);
    this.best = ops.alloc(model.layout().size());
    this.rows = tc.batchSize() * len;
    this.hostIds = new int[rows];
    this.hostTargets = new int[rows];
    int cols = 1 + tc.negatives();
    this.hostItems = tc.loss().sampled() ? new int[rows * cols] : null;
    this.ids = ops.allocInts(rows);
    this.targets = ops.allocInts(rows);
    this.items = tc.loss().sampled() ? ops.allocInts((long) rows * cols) : null;
    this.dH = ops.alloc((long) rows * c.dim());
    this.scores = tc.loss().sampled() ? ops.alloc((long) rows * cols) : null;
    this.dScores = tc.loss().sampled() ? ops.alloc((long) rows * cols) : null;
    this.logQ =
        tc.loss() == LossKind.SAMPLED_SOFTMAX ? ops.alloc((long) rows * cols) : null; // uniform: 0
    this.beta =
        switch (tc.loss()) {
          case GBCE -> LossKind.gbceBeta(tc.negatives(), c.numItems(), tc.gbceT());
          default -> 1f;
        };
  }

  public State state() {
    return state;
  }

  public List<Record> history() {
    return history;
  }

  /** Adam's first moments (same layout as the parameters). */
  public Buf adamM() {
    return optimizer.adamM;
  }

  public Buf adamV() {
    return optimizer.adamV;
  }

  /** Steps per epoch. */
  public int stepsPerEpoch() {
    return (batches.size() + tc.batchSize() - 1) / tc.batchSize();
  }

  public int examples() {
    return batches.size();
  }

  /**
   * One optimisation step on the next batch of the current epoch; returns its loss. Advances the
   * epoch position (and the epoch when it is used up, without validating).
   */
  public double step() {
    if (orderEpoch != state.epoch || order == null) {
      order = batches.epochOrder(tc.seed(), state.epoch, tc.batchSize(), tc.lengthBuckets());
      orderEpoch = state.epoch;
    }
    int batch = tc.batchSize();
    if (model.maskToken() >= 0) { // masked items (BERT4Rec)
      batches.fillMasked(
          order,
          state.position,
          batch,
          hostIds,
          hostTargets,
          tc.maskProbability(),
          tc.seed(),
          state.step,
          model.maskToken(),
          tc.maskLastProbability());
    } else {
      batches.fill(order, state.position, batch, hostIds, hostTargets);
    }
    // With length buckets the batch runs on the last L slots its longest example uses (the fills
    // and
    // their random draws are those of the full window; PAD slots change nothing elsewhere).
    int L = tc.lengthBuckets() ? SequenceBatches.usedLength(hostIds, batch, len) : len;
    int r = batch * L;
    int[] upIds = hostIds;
    int[] upTargets = hostTargets;
    if (L < len) {
      for (int b = 0; b < batch; b++) { // rows move down: the copy never overtakes its source
        System.arraycopy(hostIds, b * len + len - L, hostIds, b * L, L);
        System.arraycopy(hostTargets, b * len + len - L, hostTargets, b * L, L);
      }
      upIds = Arrays.copyOf(hostIds, r);
      upTargets = Arrays.copyOf(hostTargets, r);
    }
    IntBuf stepIds = ids.slice(0, r);
    IntBuf stepTargets = targets.slice(0, r);
    Buf stepDH = dH.slice(0, (long) r * model.config().dim());
    ops.upload(stepIds, upIds);
    ops.upload(stepTargets, upTargets);
    model.zeroGrad();
    Buf h = model.forward(stepIds, batch, L, len - L, true, tc.seed(), state.step);
    double loss;
    if (tc.loss() == LossKind.CE) {
      loss = head.fullCrossEntropy(h, stepTargets, r, stepDH);
    } else {
      long cells = (long) r * (1 + tc.negatives());
      sampleNegatives(r);
      IntBuf stepItems = items.slice(0, cells);
      ops.upload(stepItems, r == rows ? hostItems : Arrays.copyOf(hostItems, (int) cells));
      loss =
          head.sampled(
              tc.loss(),
              h,
              stepTargets,
              stepItems,
              r,
              tc.negatives(),
              beta,
              logQ == null ? null : logQ.slice(0, cells),
              scores.slice(0, cells),
              dScores.slice(0, cells),
              stepDH);
    }
    if (!Double.isFinite(loss)) {
      throw new RecjpqException(
          String.format(
              Locale.ROOT,
              "The training loss became %s at step %d (epoch %d). Lower the learning rate (--lr) or enable gradient"
                  + " clipping (--clip-norm); the last good checkpoint is kept.",
              loss,
              state.step,
              state.epoch + 1));
    }
    model.backward(stepDH);
    if (tc.clipNorm() > 0) {
      double norm = Math.sqrt(ops.sumOfSquares(model.grads()));
      if (norm > tc.clipNorm()) {
        ops.scale(model.grads(), (float) (tc.clipNorm() / norm));
      }
    }
    optimizer.step(learningRate(), state);
    state.step++;
    state.position += tc.batchSize();
    if (state.position >= batches.size()) {
      state.position = 0;
      state.epoch++;
    }
    return loss;
  }

  private void sampleNegatives(int stepRows) {
    int n = tc.negatives();
    int cols = 1 + n;
    int numItems = model.config().numItems();
    long key = CounterRng.key(tc.seed() ^ STREAM_NEGATIVES, state.step);
    for (int r = 0; r < stepRows; r++) {
      hostItems[r * cols] = Math.max(0, hostTargets[r]);
      for (int j = 0; j < n; j++) {
        hostItems[r * cols + 1 + j] = CounterRng.belowAt(key, (long) r * n + j, numItems);
      }
    }
  }

  /**
   * A checkpoint of the current parameters; with {@code resumable}, also Adam's moments, the best
   * parameters and the loop state, so {@link #restore} continues bit-exactly. A resumable
   * checkpoint taken where the current parameters are not the best validated ones holds the best as
   * its parameters (what serving and evaluation read) and the current ones as its iterate.
   */
  public Checkpoint checkpoint(
      org.recjpq.data.Vocabulary items, boolean resumable, ObjectNode provenance) {
    int n = (int) model.layout().size();
    float[] p = new float[n];
    ops.download(p, model.params());
    float[] m = null;
    float[] v = null;
    float[] b = null;
    if (resumable) {
      m = new float[n];
      v = new float[n];
      ops.download(m, optimizer.adamM);
      ops.download(v, optimizer.adamV);
      if (state.bestEpoch >= 0) {
        b = new float[n];
        ops.download(b, best);
      }
    }
    float[] it = null;
    if (resumable && iterate != null) { // after run(): the parameters are the best, restored
      it = iterate;
    } else if (resumable && b != null && !bestIsIterate) { // mid-run, since the last improvement
      it = p;
      p = b;
    }
    ObjectNode s = provenance.deepCopy();
    s.put("step", state.step);
    s.put("epoch", state.epoch);
    s.put("position", state.position);
    if (state.bestEpoch >= 0) {
      s.put("bestMetric", state.bestMetric);
    }
    s.put("bestEpoch", state.bestEpoch);
    s.put("sinceBest", state.sinceBest);
    s.put("stopped", state.stopped);
    if (state.horizonEpochs > 0) {
      s.put("horizonEpochs", state.horizonEpochs);
    }
    return new Checkpoint(
        model.config(), items, model.itemCodes(), p, m, v, b, s, itemCounts(), it);
  }

  /**
   * Each item's count in the interactions a test-time history holds (every user's items but the
   * last), for popularity fallbacks when serving.
   */
  private int[] itemCounts() {
    int[] counts = new int[ds.numItems()];
    for (int u = 0; u < ds.numUsers(); u++) {
      for (int pos = 0, len = ds.length(u) - 1; pos < len; pos++) {
        counts[ds.item(u, pos)]++;
      }
    }
    return counts;
  }

  /** Continues from a resumable checkpoint of the same model and configuration. */
  public void restore(Checkpoint ck) {
    order = null; // recomputed for the restored epoch
    if (!ck.resumable()) {
      throw new RecjpqException(
          "The checkpoint holds no optimizer state, so training cannot resume from it;"
              + " save with --save-optimizer to make resumable checkpoints.");
    }
    ops.upload(model.params(), ck.iterate() != null ? ck.iterate() : ck.params());
    iterate = null;
    bestIsIterate = ck.iterate() == null;
    ops.upload(optimizer.adamM, ck.adamM());
    ops.upload(optimizer.adamV, ck.adamV());
    if (ck.bestParams() != null) {
      ops.upload(best, ck.bestParams());
    }
    ObjectNode s = ck.state();
    state.step = s.path("step").asLong();
    state.epoch = s.path("epoch").asInt();
    state.position = s.path("position").asInt();
    state.bestMetric = s.path("bestMetric").asDouble(Double.NEGATIVE_INFINITY);
    state.bestEpoch = s.path("bestEpoch").asInt(-1);
    state.sinceBest = s.path("sinceBest").asInt();
    state.stopped = s.path("stopped").asBoolean();
    state.horizonEpochs = s.path("horizonEpochs").asInt(0);
  }

  /**
   * With a wall-time limit and a decaying schedule, fits the decay to the limit after each epoch:
   * it then ends after the epochs done plus those the time left holds at the last epoch's pace
   * (validation included), when that is fewer than the configured epochs, so that the learning rate
   * has decayed when time runs out instead of being cut off near its peak. The first fit comes
   * after the second epoch (the first one's pace includes the JIT's warm-up, and would end a run
   * that the time does not limit too early); refitting every epoch follows the machine's load.
   */
  private void fitHorizon(double epochSeconds, double secondsSoFar) {
    if (tc.maxSeconds() <= 0
        || tc.schedule() == TrainConfig.Schedule.CONSTANT
        || state.stopped
        || state.epoch < 2
        || epochSeconds <= 0) {
      return;
    }
    state.horizonEpochs =
        TrainConfig.fittedHorizon(
            state.epoch, tc.epochs(), tc.maxSeconds() - secondsSoFar, epochSeconds);
  }

  /** The learning rate of the next step (the schedule's, fitted to a time limit once it is). */
  public float learningRate() {
    int horizon = state.horizonEpochs > 0 ? state.horizonEpochs : tc.epochs();
    return tc.learningRateAt(state.step, (long) stepsPerEpoch() * horizon);
  }

  /** Validation NDCG@10 of the current parameters on the validation users. */
  public EvaluationResult validate() {
    return Evaluator.evaluate(
        ds,
        new ModelScorer(model, 4096),
        Phase.VALIDATION,
        validationUsers,
        EvalOptions.defaults().withThreads(1).withBatchSize(256));
  }

  /** Test metrics of the current parameters on every test user. */
  public EvaluationResult test(EvalOptions options) {
    return test(options, LeaveOneOut.testUsers(ds));
  }

  /** {@link #test(EvalOptions)} on the given test users only (ascending internal ids). */
  public EvaluationResult test(EvalOptions options, int[] users) {
    return Evaluator.evaluate(
        ds, new ModelScorer(model, 4096), Phase.TEST, users, options.withThreads(1));
  }

  /**
   * Trains until the epochs are used, patience runs out or the time limit passes; restores the best
   * validated parameters. {@code listener} sees every epoch's record.
   */
  public void run(java.util.function.Consumer<Record> listener) {
    run(listener, tc.epochs());
  }

  /**
   * {@link #run(java.util.function.Consumer)} that pauses after epoch {@code untilEpoch} (validated
   * there); the schedule stays that of all the configured epochs, so a paused run continued from
   * its resumable {@link #checkpoint} trains as one that never paused.
   */
  public void run(java.util.function.Consumer<Record> listener, int untilEpoch) {
    long start = System.nanoTime();
    int stopAt = Math.min(untilEpoch, tc.epochs());
    while (state.epoch < stopAt && !state.stopped) {
      int epoch = state.epoch;
      bestIsIterate = false;
      long t0 = System.nanoTime();
      double lossSum = 0;
      int steps = 0;
      try (Progress bar =
          Progress.bar(
              String.format("epoch %d/%d", epoch + 1, tc.epochs()), stepsPerEpoch(), "steps")) {
        while (state.epoch == epoch) {
          double loss = step();
          lossSum += loss;
          steps++;
          double secs = (System.nanoTime() - t0) / 1e9;
          bar.step(1);
          bar.setExtra(
              String.format(
                  Locale.ROOT,
                  "loss %.4f, %.0f seq/s, %.0f tok/s",
                  lossSum / steps,
                  steps * tc.batchSize() / secs,
                  steps * (double) tc.batchSize() * len / secs));
          if (tc.maxSeconds() > 0 && (System.nanoTime() - start) / 1e9 > tc.maxSeconds()) {
            state.stopped = true;
            break;
          }
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      double ndcg = Double.NaN;
      boolean lastEpoch = state.epoch >= stopAt || state.stopped;
      if ((epoch + 1) % tc.validateEvery() == 0 || lastEpoch) {
        ndcg = validate().ndcg(10);
        if (ndcg > state.bestMetric) {
          state.bestMetric = ndcg;
          state.bestEpoch = epoch;
          state.sinceBest = 0;
          ops.copy(best, model.params());
          bestIsIterate = true;
        } else if (tc.patience() > 0 && ++state.sinceBest >= tc.patience()) {
          state.stopped = true;
        }
      }
      fitHorizon((System.nanoTime() - t0) / 1e9, (System.nanoTime() - start) / 1e9);
      Record rec =
          new Record(
              epoch + 1,
              state.step,
              lossSum / Math.max(1, steps),
              ndcg,
              seconds,
              steps * tc.batchSize() / seconds);
      history.add(rec);
      listener.accept(rec);
    }
    if (state.bestEpoch >= 0) {
      if (!bestIsIterate) { // the iterate goes on in a resumed run: keep it for checkpoint()
        iterate = new float[(int) model.layout().size()];
        ops.download(iterate, model.params());
      }
      ops.copy(model.params(), best);
    }
  }
}
