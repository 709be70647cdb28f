// The shape every benchmark scenario reports (bench/scenarios/*.ts export `run(): Promise<ScenarioResult>`).

export interface Measurement {
  name: string;
  iterations: number;
  meanMs: number;
  medianMs: number;
}

export interface ScenarioResult {
  title: string;
  baseline: Measurement;
  candidates: Measurement[];
  notes?: string;
}
