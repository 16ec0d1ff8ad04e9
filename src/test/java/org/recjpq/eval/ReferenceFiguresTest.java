package org.recjpq.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.recjpq.SharedData;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.FilterOptions;
import org.recjpq.data.Format;
import org.recjpq.data.InteractionReaders;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.ReadOptions;
import org.recjpq.data.SequenceDataset;

/**
 * MostPop on the real datasets against the independently computed figures of
 * ../shared/data/README.md (skipped where the data is absent).
 */
class ReferenceFiguresTest {
  @ParameterizedTest
  @CsvSource({
    "ml-1m/ml-1m.txt, sasrec-pairs, true, 6040, 0.01782, 0.03626",
    "ml-1m/ml-1m.txt, sasrec-pairs, false, 6040, 0.00790, 0.01623",
    "beauty/Beauty.txt, user-lines, true, 22363, 0.00608, 0.01346",
    "beauty/Beauty.txt, user-lines, false, 22363, 0.00538, 0.01145"
  })
  void mostPopMatchesTheReference(
      String file, String format, boolean filterSeen, int users, double ndcg, double recall) {
    Path p = SharedData.require(file);
    SequenceDataset ds =
        DatasetBuilder.build(
            InteractionReaders.read(p, ReadOptions.of(Format.fromCliName(format))),
            FilterOptions.DEFAULT);
    EvaluationResult r =
        Evaluator.evaluate(
            ds,
            MostPopular.fit(ds, Phase.TEST),
            Phase.TEST,
            EvalOptions.defaults().withFilterSeen(filterSeen));
    assertEquals(users, r.users());
    assertEquals(ndcg, r.ndcg(10), 0.000005 + 1e-12, "NDCG@10");
    assertEquals(recall, r.recall(10), 0.000005 + 1e-12, "Recall@10");
  }
}
