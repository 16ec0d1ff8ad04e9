package org.recjpq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.recjpq.backend.Ops;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.codes.ItemCodes;
import org.recjpq.data.SequenceDataset;
import org.recjpq.io.AtomicFiles;
import org.recjpq.model.DenseTwin;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.SequenceModel;
import org.recjpq.train.TrainConfig;
import org.recjpq.train.Trainer;
import org.recjpq.tune.SearchSpace;
import org.recjpq.tune.SuccessiveHalving;

/**
 * The trials of {@code recjpq tune}: the settings sampled for each (trial 0 is the base), their
 * training state between rungs (resumable checkpoints in a work folder, so that a trial continues
 * bit for bit where it paused), their curves, and the RecJPQ codes shared by trials that ask for
 * the same ones.
 */
final class TuneSearch {
  private static final ObjectMapper JSON = new ObjectMapper();

  final Settings base;
  final SearchSpace space;
  final SequenceDataset ds;
  final int[] val;
  final int threads;
  final Path work;
  final long searchSeed;
  final java.util.function.Supplier<Ops> engine;
  int maxEpochs;
  final Map<Integer, ObjectNode> sampled = new HashMap<>();
  final Map<Integer, List<Trainer.Record>> curves = new LinkedHashMap<>();
  final Map<Integer, Integer> trained = new HashMap<>();
  final Map<String, ItemCodes> codesCache = new HashMap<>();
  private final Map<String, DenseTwin> twins = new HashMap<>(); // by settings but the splits
  java.util.function.Consumer<String> note = n -> {};

  TuneSearch(
      Settings base,
      SearchSpace space,
      SequenceDataset ds,
      int[] val,
      int threads,
      Path work,
      long searchSeed,
      java.util.function.Supplier<Ops> engine) {
    this.searchSeed = searchSeed;
    this.engine = engine;
    this.base = base;
    this.space = space;
    this.ds = ds;
    this.val = val;
    this.threads = threads;
    this.work = work;
  }

  /** Trial i's sampled values (none for trial 0, the base settings). */
  ObjectNode values(int i) {
    return sampled.computeIfAbsent(
        i,
        k -> {
          if (k == 0) {
            return JSON.createObjectNode();
          }
          // the k-th output of one generator seeds trial k's: adjacent seeds give correlated
          // first draws
          SplittableRandom root = new SplittableRandom(searchSeed);
          long seed = 0;
          for (int j = 0; j < k; j++) {
            seed = root.nextLong();
          }
          return space.sample(new SplittableRandom(seed));
        });
  }

  Settings settings(int i) {
    Settings s = Settings.copyOf(base);
    s.apply(values(i), "trial " + i);
    s.epochs = maxEpochs;
    s.maxMinutes = 0.0;
    return s;
  }

  String describe(int i) {
    ObjectNode v = values(i);
    if (v.isEmpty()) {
      return "(base settings)";
    }
    List<String> parts = new ArrayList<>();
    v.fields()
        .forEachRemaining(
            e ->
                parts.add(
                    e.getKey()
                        + " "
                        + (e.getValue().isTextual()
                            ? e.getValue().asText()
                            : e.getValue().toString())));
    return String.join(", ", parts);
  }

  Path checkpointOf(int i) {
    return work.resolve(String.format(Locale.ROOT, "trial-%03d.ckpt", i));
  }

  int epochsOf(int i) {
    return trained.getOrDefault(i, 0);
  }

  SequenceModel freshModel(Settings s, Ops ops) {
    ModelConfig c = s.modelConfig(ds.numItems());
    ItemCodes codes = null;
    if (ModelSetup.startsFromTwin(s)) {
      // the dense twin that train would make for these settings (so that train --config
      // best-settings.json repeats the winner), shared by trials that differ only in their splits
      ObjectNode key = s.toJson();
      key.remove("splits");
      DenseTwin twin =
          twins.computeIfAbsent(
              key.toString(),
              k -> {
                try (Ops warmup = new org.recjpq.backend.cpu.CpuOps(threads)) {
                  return ModelSetup.denseTwin(s, ds, threads, warmup, note);
                }
              });
      return ModelSetup.fromTwin(
          s, c, ModelSetup.requantised(twin, ds, s.splits, s.seed, threads), ops, n -> {});
    }
    if (c.isJpq()) {
      String key = s.codes + "/" + s.splits + "/" + s.dim + "/" + s.seed;
      codes = codesCache.computeIfAbsent(key, k -> ModelSetup.codes(s, ds, threads));
    }
    SequenceModel model = SequenceModel.create(c, ops, codes);
    model.initialize(s.seed);
    return model;
  }

  /**
   * The epochs of the dense twin each trial trains first (a {@code dense-pq} base) when the full
   * length is {@code fullLength}, as {@link ModelSetup#denseTwin} sets them; 0 without twins. A
   * dense epoch takes about as long as a RecJPQ one, so the plan counts them alike.
   */
  double twinEpochs(int fullLength) {
    return ModelSetup.startsFromTwin(base)
        ? ModelSetup.twinEpochs(base.codesWarmupEpochs, fullLength)
        : 0;
  }

  double timeOneEpoch() {
    Settings s = Settings.copyOf(base);
    s.epochs = 1;
    s.maxMinutes = 0.0;
    Ops ops = engine.get();
    try {
      SequenceModel model = freshModel(s, ops);
      Trainer trainer = new Trainer(model, ds, s.trainConfig(), val);
      long t0 = System.nanoTime();
      trainer.run(r -> {});
      return (System.nanoTime() - t0) / 1e9;
    } finally {
      ops.close();
    }
  }

  SuccessiveHalving.Trial trial(int i) {
    return epochs -> {
      Settings s = settings(i);
      TrainConfig tc = s.trainConfig();
      Ops ops = engine.get();
      try {
        Checkpoint saved = trained.containsKey(i) ? Checkpoint.read(checkpointOf(i)) : null;
        SequenceModel model = saved != null ? ModelSetup.load(saved, ops) : freshModel(s, ops);
        Trainer trainer = new Trainer(model, ds, tc, val);
        if (saved != null) {
          trainer.restore(saved);
        }
        List<Trainer.Record> curve = curves.computeIfAbsent(i, k -> new ArrayList<>());
        trainer.run(curve::add, epochs);
        trained.put(i, trainer.state().epoch);
        ObjectNode provenance = JSON.createObjectNode();
        provenance.set("settings", s.toJson());
        provenance.put("dataset", ds.info().source());
        provenance.put("command", "recjpq tune (trial " + i + ")");
        trainer.checkpoint(ds.items(), true, provenance).write(checkpointOf(i), model.layout());
        return trainer.state().bestMetric;
      } finally {
        ops.close();
      }
    };
  }

  void deleteCheckpoints() {
    for (int i : trained.keySet()) {
      AtomicFiles.deleteQuietly(checkpointOf(i));
    }
    try {
      Files.deleteIfExists(work);
    } catch (IOException e) {
      // not empty: something else is in it; leave it
    }
  }
}
