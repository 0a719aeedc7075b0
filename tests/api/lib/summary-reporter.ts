// Prints one closing line that scripts can read: "api: N passed, N failed, N skipped".
// A test file that could not run at all and an error outside any test each count as one failure,
// so a broken run never reads as green. The line is written when the process exits, so that it
// comes after everything other reporters and the global teardown print.
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from "vitest/node";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export default class SummaryReporter implements Reporter {
  private counts: Counts | undefined;

  onInit(): void {
    process.once("exit", (code) => {
      const counts = this.counts ?? { passed: 0, failed: 0, skipped: 0 };
      // A run that failed before any test was counted (e.g. the server did not start).
      if (code !== 0 && counts.failed === 0) counts.failed = 1;
      process.stdout.write(`\napi: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    });
  }

  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    reason: TestRunEndReason,
  ): void {
    const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      let cases = 0;
      for (const test of module.children.allTests()) {
        cases++;
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else counts.skipped++;
      }
      if (module.state() === "failed" && (cases === 0 || module.errors().length > 0)) counts.failed++;
    }
    counts.failed += unhandledErrors.length;
    if (reason !== "passed" && counts.failed === 0) counts.failed = 1;
    this.counts = counts;
  }
}
