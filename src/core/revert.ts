// An undo stack: each step that changes the host registers how to take it back; on failure the
// steps run in reverse. An undo that fails is reported, not thrown, so the original error wins.
export class Revert {
  private readonly undos: Array<{ what: string; undo: () => unknown }> = [];

  add(what: string, undo: () => unknown): void {
    this.undos.push({ what, undo });
  }

  /** Keeps what was done: call when the whole operation succeeded. */
  commit(): void {
    this.undos.length = 0;
  }

  /** Runs the undos, newest first; resolves to the failures, for logging. */
  async run(): Promise<Array<{ what: string; error: unknown }>> {
    const failures: Array<{ what: string; error: unknown }> = [];
    while (this.undos.length > 0) {
      const step = this.undos.pop()!;
      try {
        await step.undo();
      } catch (error) {
        failures.push({ what: step.what, error });
      }
    }
    return failures;
  }
}
