// What test/chart/global-setup.ts hands to the chart test files (vitest provide/inject); imported by
// both sides so the keys and their types cannot drift apart.
declare module 'vitest' {
  export interface ProvidedContext {
    /** helm built from its Go module (scripts/chart-tools/helm.ts). */
    helmBinary: string;
    /** promtool from Debian's prometheus package (scripts/chart-tools/promtool.ts). */
    promtoolBinary: string;
  }
}
export {};
