/** Polls `probe` every 100 ms until it answers something truthy; the test runner's timeout bounds it. */
export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
