// A setup that starts a server and then takes further steps (a schema, roles, more servers) hands
// the server to its caller only at the end. If a later step throws, the caller never gets the
// handle and its afterAll cannot stop it: the setup itself must, or the server outlives the run.

/** Runs `laterSteps`; if they throw, runs `stop` (what was started before them) and rethrows. */
export async function stopIfLaterStepsFail<T>(stop: () => Promise<void>, laterSteps: () => Promise<T>): Promise<T> {
  try {
    return await laterSteps();
  } catch (error) {
    await stop().catch((stopError: unknown) => process.stderr.write(`[setup] stopping after a failed setup step failed too: ${String(stopError)}\n`));
    throw error;
  }
}
