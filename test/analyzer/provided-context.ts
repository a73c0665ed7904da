/** What the analyzer global setup hands to test files through vitest's provide/inject. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the np-guard netpol-analyzer binary (`k8snetpolicy`), built once and cached. */
    netpolAnalyzer: string;
  }
}

export {};
