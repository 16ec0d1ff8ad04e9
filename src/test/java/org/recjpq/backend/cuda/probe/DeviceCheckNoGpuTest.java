package org.recjpq.backend.cuda.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.cpu.Blas;
import org.recjpq.backend.cuda.CudaAvailability;

/** {@link DeviceCheck#run} on a machine without a GPU: every GPU step is SKIP with its reason. */
class DeviceCheckNoGpuTest {

  private static DeviceCheck.Result runQuietly(boolean allowNoGpu, StringBuilder output) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      DeviceCheck.Result result = DeviceCheck.run(allowNoGpu, out);
      output.append(bytes.toString(StandardCharsets.UTF_8));
      return result;
    }
  }

  @Test
  void everyGpuStepIsSkippedWithTheReason() {
    assumeFalse(CudaAvailability.report().hasDevice(), "this machine has a GPU");
    StringBuilder output = new StringBuilder();
    DeviceCheck.Result result = runQuietly(true, output);
    assertEquals(0, result.exitCode(), output.toString());
    assertEquals(9, result.steps().size());
    for (DeviceCheck.Step step : result.steps()) {
      assertFalse(step.detail().isBlank(), step.name());
      if (step.name().equals("openblas")) {
        // The CPU reference runs anyway; it is SKIP-free: PASS here, FAIL only if OpenBLAS lies.
        assertEquals(
            Blas.isAvailable() ? DeviceCheck.Outcome.PASS : DeviceCheck.Outcome.FAIL,
            step.outcome(),
            step.detail());
      } else {
        assertEquals(DeviceCheck.Outcome.SKIP, step.outcome(), step.name() + ": " + step.detail());
      }
    }
    assertTrue(result.steps().get(0).detail().startsWith("no GPU: "));
    assertTrue(output.toString().contains("| step | result | ms | detail |"), output.toString());
  }

  @Test
  void withoutAllowNoGpuTheExitCodeIsTwo() {
    assumeFalse(CudaAvailability.report().hasDevice(), "this machine has a GPU");
    assumeFalse(!Blas.isAvailable(), "OpenBLAS missing would make the exit code 1");
    StringBuilder output = new StringBuilder();
    DeviceCheck.Result result = runQuietly(false, output);
    assertEquals(2, result.exitCode(), output.toString());
    assertTrue(output.toString().contains("--allow-no-gpu"));
  }

  @Test
  void tableEscapesPipes() {
    DeviceCheck.Result result =
        new DeviceCheck.Result(
            java.util.List.of(new DeviceCheck.Step("x", DeviceCheck.Outcome.PASS, 1.25, "a|b")), 0);
    assertTrue(result.table().contains("| x | PASS | 1.3 | a\\|b |"), result.table());
  }
}
