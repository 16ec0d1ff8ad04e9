package org.recjpq.codes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a code assignment produced and cost: per split the smallest and largest bucket; the number
 * of distinct full codes and the largest group of items sharing one identical code; training data
 * size; singular values (SVD); time per phase; peak heap. Printed by {@code assign-codes} and saved
 * in the codes file's header.
 *
 * @param exactDistinct whether distinct codes were counted exactly (m ≤ 8: codes packed in a long)
 *     or through a 64-bit hash of each code (m > 8; collisions are vanishingly unlikely)
 */
public record CodeDiagnostics(
    String strategy,
    int items,
    int splits,
    long trainingInteractions,
    long nonZeros,
    int[] minOccupancy,
    int[] maxOccupancy,
    long distinctCodes,
    long largestGroup,
    boolean exactDistinct,
    double[] singularValues,
    Map<String, Double> seconds,
    long peakHeapBytes) {

  /** Occupancy and distinct-code statistics of {@code codes}, with the given run figures. */
  static CodeDiagnostics of(
      String strategy,
      ItemCodes codes,
      long trainingInteractions,
      long nonZeros,
      double[] singularValues,
      Map<String, Double> seconds,
      long peakHeapBytes) {
    int n = codes.numItems();
    int m = codes.splits();
    byte[] raw = codes.raw();
    int[] min = new int[m];
    int[] max = new int[m];
    for (int k = 0; k < m; k++) {
      int[] count = new int[ItemCodes.SUB_IDS];
      for (int i = 0; i < n; i++) {
        count[raw[i * m + k] & 0xff]++;
      }
      int lo = Integer.MAX_VALUE;
      int hi = 0;
      for (int c : count) {
        if (n >= ItemCodes.SUB_IDS
            || c > 0) { // with fewer items than buckets, only used ones count
          lo = Math.min(lo, c);
        }
        hi = Math.max(hi, c);
      }
      min[k] = lo == Integer.MAX_VALUE ? 0 : lo;
      max[k] = hi;
    }
    long[] keys = new long[n];
    boolean exact = m <= 8;
    for (int i = 0; i < n; i++) {
      long key = 0;
      if (exact) {
        for (int k = 0; k < m; k++) {
          key = (key << 8) | (raw[i * m + k] & 0xff);
        }
      } else {
        key = 0x243F6A8885A308D3L;
        for (int k = 0; k < m; k++) {
          key = org.recjpq.util.SplitMix64.mix(key ^ (raw[i * m + k] & 0xff) ^ ((long) k << 8));
        }
      }
      keys[i] = key;
    }
    Arrays.parallelSort(keys);
    long distinct = 0;
    long largest = 0;
    for (int i = 0; i < n; ) {
      int j = i;
      while (j < n && keys[j] == keys[i]) {
        j++;
      }
      distinct++;
      largest = Math.max(largest, j - i);
      i = j;
    }
    return new CodeDiagnostics(
        strategy,
        n,
        m,
        trainingInteractions,
        nonZeros,
        min,
        max,
        distinct,
        largest,
        exact,
        singularValues,
        new LinkedHashMap<>(seconds),
        peakHeapBytes);
  }

  /** Total seconds over all phases. */
  public double totalSeconds() {
    return seconds.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  /** The diagnostics as JSON (the form saved in the codes file). */
  public ObjectNode toJson() {
    ObjectMapper json = new ObjectMapper();
    ObjectNode o = json.createObjectNode();
    o.put("strategy", strategy);
    o.put("items", items);
    o.put("splits", splits);
    o.put("training_interactions", trainingInteractions);
    o.put("non_zeros", nonZeros);
    ArrayNode mins = o.putArray("min_bucket_occupancy");
    ArrayNode maxs = o.putArray("max_bucket_occupancy");
    for (int k = 0; k < splits; k++) {
      mins.add(minOccupancy[k]);
      maxs.add(maxOccupancy[k]);
    }
    o.put("distinct_codes", distinctCodes);
    o.put("largest_identical_code_group", largestGroup);
    o.put("distinct_codes_exact", exactDistinct);
    if (singularValues != null) {
      ArrayNode sv = o.putArray("singular_values");
      for (double v : singularValues) {
        sv.add(v);
      }
    }
    ObjectNode t = o.putObject("seconds");
    seconds.forEach((k, v) -> t.put(k, Math.round(v * 1000) / 1000.0));
    o.put("total_seconds", Math.round(totalSeconds() * 1000) / 1000.0);
    o.put("peak_heap_mib", peakHeapBytes >> 20);
    return o;
  }
}
