package org.recjpq.serve;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.recjpq.RecjpqException;
import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.data.Vocabulary;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.SequenceModel;
import org.recjpq.util.Parallel;

/**
 * A trained model answering "top-K items for this history", exactly, from any number of threads.
 *
 * <pre>{@code
 * try (Recommender rec = Recommender.load(Path.of("ml-1m.ckpt"))) {
 *   Recommendations r = rec.recommend(List.of("1193", "661", "914"), 10);
 *   System.out.println(r.items() + " " + Arrays.toString(r.scores()));
 * }
 * }</pre>
 *
 * <p>A request encodes the history's most recent items with the SASRec backbone (one thread, no
 * dropout) and ranks the whole catalogue with the chosen {@link Scoring} (RecJPQ: the pruned exact
 * scorer by default; dense tables: BLAS with exact re-scoring). Every scorer returns the same
 * items. Each calling thread keeps its own scratch (the backbone's activations, a filter, a heap),
 * so the hot path allocates little. History ids the model does not know are skipped and reported; a
 * history with no known item is answered from training popularity, labelled {@code "popularity"}.
 * {@link #recommendBatch} encodes many histories at once on all cores and scores them with the
 * strategy that suits batches.
 */
public final class Recommender implements AutoCloseable {
  /** Largest K a request may ask for. */
  public static final int MAX_K = 10_000;

  /** How a single request ranks the catalogue. */
  public enum Scoring {
    /** Pruned for RecJPQ, dense for dense tables. */
    AUTO,
    /**
     * A matrix-vector product over the full item table (RecJPQ: decoded once at load, N × d
     * floats).
     */
    DENSE,
    /** PQTopK: sub-id tables and m look-ups per item (RecJPQ only). */
    PQTOPK,
    /** Exact pruned scoring over per-split posting lists (RecJPQ only). */
    PRUNED;

    /** Parses auto, dense, pqtopk or pruned (any case), with a clear error otherwise. */
    public static Scoring parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new org.recjpq.UsageException(
            "Unknown scoring '"
                + org.recjpq.util.Excerpt.of(s)
                + "'. Known: auto, dense, pqtopk, pruned.");
      }
    }
  }

  private final Path source;
  private final ModelConfig config;
  private final Vocabulary items;
  private final SequenceModel model; // on a single-threaded engine; request threads use views of it
  private final ServingHead head;
  private final TopKScorer scorer;
  private final BatchScorer batchScorer;
  private final int[] itemCounts;
  private final int threads;
  private final RequestItems requests;
  private final ThreadLocal<Worker> workers;
  private volatile boolean closed;
  private volatile int[] popularOrder;

  private Recommender(
      Path source, Checkpoint ck, Scoring scoring, int threads, boolean gpuBatches) {
    this.source = source;
    this.config = ck.config();
    this.items = ck.items();
    this.itemCounts = ck.itemCounts();
    this.requests = new RequestItems(items, config.numItems());
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.threads = threads;
    Ops single = new CpuOps(1);
    model = SequenceModel.create(config, single, ck.codes());
    if (ck.params().length != model.layout().size()) {
      throw new RecjpqException(
          source
              + " holds "
              + ck.params().length
              + " parameters but its model needs "
              + model.layout().size()
              + "; it was written by an incompatible recjpq.");
    }
    single.upload(model.params(), ck.params());
    ServingScorers chosen =
        ServingScorers.choose(source, config, ck, model, single, scoring, threads, gpuBatches);
    head = chosen.head();
    scorer = chosen.scorer();
    batchScorer = chosen.batchScorer();
    workers = ThreadLocal.withInitial(Worker::new);
  }

  /** Loads a checkpoint with the default scoring and all processors for batches. */
  public static Recommender load(Path checkpoint) {
    return load(checkpoint, Scoring.AUTO, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Loads a checkpoint; {@code threads} is what batches use (single requests run on their caller's
   * thread).
   */
  public static Recommender load(Path checkpoint, Scoring scoring, int threads) {
    return load(checkpoint, scoring, threads, false);
  }

  /**
   * As above; with {@code gpuBatches}, {@link #recommendBatch} scores batches of 3 or more users on
   * the GPU ({@link GpuBatchScorer}: the same answers), or this throws, saying why, where CUDA
   * cannot run. Single requests stay on the CPU.
   */
  public static Recommender load(
      Path checkpoint, Scoring scoring, int threads, boolean gpuBatches) {
    return new Recommender(checkpoint, Checkpoint.read(checkpoint), scoring, threads, gpuBatches);
  }

  /** A recommender over an already read checkpoint. */
  public static Recommender of(Checkpoint ck, Scoring scoring, int threads) {
    return of(ck, scoring, threads, false);
  }

  /**
   * As above, with batches on the GPU when {@code gpuBatches} (see {@link #load(Path, Scoring, int,
   * boolean)}).
   */
  public static Recommender of(Checkpoint ck, Scoring scoring, int threads, boolean gpuBatches) {
    return new Recommender(null, ck, scoring, threads, gpuBatches);
  }

  /** Per-thread scratch. */
  private final class Worker {
    final SequenceModel view =
        model.inferenceView(new CpuOps(1)); // an engine per thread: nothing shared but weights
    final IntBuf ids = view.ops().allocInts(config.maxLen());
    final int[] hostIds = new int[config.maxLen()];
    final float[] h = new float[config.dim()];
    final ItemFilter filter = new ItemFilter(config.numItems());
    final TopK top = new TopK(10);
    final float[] query = new float[head.queryFloats()];
  }

  public ModelConfig config() {
    return config;
  }

  public int numItems() {
    return config.numItems();
  }

  /** The single-request scorer's name: dense, pqtopk or pruned. */
  public String scorerName() {
    return scorer.name();
  }

  /**
   * The device batches of 3 or more users are scored on ("CUDA emulator (CPU)" or a GPU), or null:
   * the CPU.
   */
  public String gpuBatchDevice() {
    return batchScorer.gpuDevice();
  }

  /** Where the model came from (null when built from a checkpoint in memory). */
  public Path source() {
    return source;
  }

  /** Whether an empty history can be answered (the checkpoint recorded training popularity). */
  public boolean hasPopularity() {
    return itemCounts != null;
  }

  /**
   * {@link #recommend(List, int, RecommendOptions)} with the default options (seen items filtered).
   */
  public Recommendations recommend(List<String> history, int k) {
    return recommend(history, k, RecommendOptions.defaults());
  }

  /** The top {@code k} items for a history of external ids, oldest first. */
  public Recommendations recommend(List<String> history, int k, RecommendOptions options) {
    ensureOpen();
    checkK(k);
    checkOptions(options);
    Worker w = workers.get();
    List<String> unknown = new ArrayList<>();
    int[] known = requests.resolve(history, unknown);
    long t0 = System.nanoTime();
    if (known.length == 0) {
      return popularity(k, options, known, unknown, w);
    }
    encode(w, known);
    long t1 = System.nanoTime();
    ItemFilter f = w.filter;
    f.clear();
    requests.exclusions(known, options, f::exclude);
    w.top.reset(Math.min(k, numItems()));
    if (options.allow() != null) {
      head.prepare(w.h, w.query);
      for (int item : requests.allowed(options)) {
        if (!f.excluded(item)) {
          w.top.offer(item, head.score(w.query, item));
        }
      }
    } else {
      scorer.topK(w.h, f, w.top);
    }
    long t2 = System.nanoTime();
    return requests.answer(w.top, unknown, "model", (t1 - t0) / 1e6, (t2 - t1) / 1e6);
  }

  /**
   * The top {@code k} items for each history, the histories encoded together on all cores and the
   * catalogue scored by the faster batch strategy for the shape (GEMM over decoded item tiles, or
   * look-ups; docs/architecture.md §5, {@link BatchScorer#choose}). Same answers as {@link
   * #recommend} one by one. Batches run one at a time.
   */
  public List<Recommendations> recommendBatch(
      List<List<String>> histories, int k, RecommendOptions options) {
    if (histories == null) {
      throw new IllegalArgumentException(
          "the histories must not be null (an empty list is allowed)");
    }
    return recommendBatch(histories, k, options, batchScorer.choose(histories.size()));
  }

  /** As above with the batch scoring strategy chosen by the caller (benchmarks). */
  public synchronized List<Recommendations> recommendBatch(
      List<List<String>> histories,
      int k,
      RecommendOptions options,
      BatchScorer.Strategy strategy) {
    ensureOpen();
    checkK(k);
    checkOptions(options);
    if (histories == null) {
      throw new IllegalArgumentException(
          "the histories must not be null (an empty list is allowed)");
    }
    int users = histories.size();
    Recommendations[] out = new Recommendations[users];
    List<List<String>> unknown = new ArrayList<>();
    int[][] known = new int[users][];
    List<Integer> modelRows = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      List<String> unk = new ArrayList<>();
      known[u] = requests.resolve(histories.get(u), unk);
      unknown.add(unk);
      if (known[u].length == 0) {
        out[u] = popularity(k, options, known[u], unk, workers.get());
      } else {
        modelRows.add(u);
      }
    }
    int d = config.dim();
    int chunk = 256;
    for (int c0 = 0; c0 < modelRows.size(); c0 += chunk) {
      int rows = Math.min(chunk, modelRows.size() - c0);
      int base = c0;
      long t0 = System.nanoTime();
      float[] hs = new float[rows * d];
      // each history on its own window, on the pool's threads: the same bits as single requests
      Parallel.forRange(
          rows,
          threads,
          1,
          (from, to) -> {
            Worker w = workers.get();
            for (int r = from; r < to; r++) {
              encode(w, known[modelRows.get(base + r)]);
              System.arraycopy(w.h, 0, hs, r * d, d);
            }
          });
      long t1 = System.nanoTime();
      ItemFilter[] filters = new ItemFilter[rows];
      TopK[] tops = new TopK[rows];
      int[] notAllowed = options.allow() != null ? requests.notAllowed(options) : new int[0];
      for (int r = 0; r < rows; r++) {
        int[] kn = known[modelRows.get(c0 + r)];
        List<Integer> ex = new ArrayList<>();
        requests.exclusions(kn, options, ex::add);
        for (int i : notAllowed) { // everything outside the allow list is excluded too
          ex.add(i);
        }
        filters[r] = ItemFilter.of(ex.stream().mapToInt(Integer::intValue).toArray());
        tops[r] = new TopK(Math.min(k, numItems()));
      }
      batchScorer.topK(hs, rows, filters, tops, strategy);
      long t2 = System.nanoTime();
      for (int r = 0; r < rows; r++) {
        int u = modelRows.get(c0 + r);
        out[u] =
            requests.answer(
                tops[r], unknown.get(u), "model", (t1 - t0) / 1e6 / rows, (t2 - t1) / 1e6 / rows);
      }
    }
    return Arrays.asList(out);
  }

  // ---- helpers -------------------------------------------------------------------------------

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("This recommender was closed.");
    }
  }

  private static void checkOptions(RecommendOptions options) {
    if (options == null) {
      throw new IllegalArgumentException(
          "the options must not be null (RecommendOptions.defaults())");
    }
  }

  private static void checkK(int k) {
    if (k < 1 || k > MAX_K) {
      throw new IllegalArgumentException("k must be between 1 and " + MAX_K + ", got " + k);
    }
  }

  /**
   * Runs the backbone on the last known items (at most maxLen) and keeps the last position's
   * representation. Only the history's own slots are computed: a shorter history is the left-padded
   * window without its PAD slots, which change nothing (see {@link SequenceModel#forward(IntBuf,
   * int, int, int, boolean, long, long)}).
   */
  private void encode(Worker w, int[] known) {
    int maxLen = config.maxLen();
    int mask = w.view.maskToken();
    int len;
    if (mask
        >= 0) { // BERT4Rec: the most recent maxLen - 1 items, then MASK, whose position is read
      int n = Math.min(maxLen - 1, known.length);
      System.arraycopy(known, known.length - n, w.hostIds, 0, n);
      w.hostIds[n] = mask;
      len = n + 1;
    } else {
      len = Math.min(maxLen, known.length);
      System.arraycopy(known, known.length - len, w.hostIds, 0, len);
    }
    IntBuf ids = w.ids.slice(0, len);
    w.view.ops().upload(ids, Arrays.copyOf(w.hostIds, len));
    Buf h = w.view.forward(ids, 1, len, maxLen - len, false, 0, 0);
    w.view.ops().download(w.h, h.slice((long) (len - 1) * config.dim(), config.dim()));
  }

  private Recommendations popularity(
      int k, RecommendOptions options, int[] known, List<String> unknown, Worker w) {
    if (itemCounts == null) {
      throw new RecjpqException(
          "No known item in the history, and "
              + (source == null ? "this checkpoint" : source)
              + " records no training popularity to fall back on (it predates it); retrain to add it.");
    }
    long t0 = System.nanoTime();
    ItemFilter f = w.filter;
    f.clear();
    requests.exclusions(known, options, f::exclude);
    TopK top = w.top;
    top.reset(Math.min(k, numItems()));
    if (options.allow() != null) {
      for (int item : requests.allowed(options)) {
        if (!f.excluded(item)) {
          top.offer(item, itemCounts[item]);
        }
      }
    } else {
      for (int item : popularOrder()) {
        if (top.full()) {
          break;
        }
        if (!f.excluded(item)) {
          top.offer(item, itemCounts[item]);
        }
      }
    }
    return requests.answer(top, unknown, "popularity", 0, (System.nanoTime() - t0) / 1e6);
  }

  /** Items by training count, most frequent first, ties to the lower id. */
  private int[] popularOrder() {
    int[] order = popularOrder;
    if (order == null) {
      order =
          java.util.stream.IntStream.range(0, numItems())
              .boxed()
              .sorted(
                  (a, b) ->
                      itemCounts[a] != itemCounts[b]
                          ? Integer.compare(itemCounts[b], itemCounts[a])
                          : Integer.compare(a, b))
              .mapToInt(Integer::intValue)
              .toArray();
      popularOrder = order;
    }
    return order;
  }

  /**
   * The last position's representation for a history of internal ids (benchmarks: backbone alone).
   */
  public float[] encodeInternal(int[] history) {
    Worker w = workers.get();
    encode(w, history);
    return w.h.clone();
  }

  /** The external id of internal item {@code i}. */
  public String externalId(int i) {
    return items.externalId(i);
  }

  /** The serving head (benchmarks and tests). */
  public ServingHead head() {
    return head;
  }

  /**
   * Releases the GPU batch scorer's device memory when there is one (CPU buffers are
   * garbage-collected direct memory: nothing else to release).
   */
  @Override
  public void close() {
    closed = true;
    batchScorer.close();
  }
}
