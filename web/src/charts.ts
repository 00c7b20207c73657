// Chart.js, loaded the first time a page draws a chart: a chunk of its own (chartSetup.ts) that the
// chat page never fetches.
import type { Chart as ChartType } from 'chart.js';

let loading: Promise<typeof ChartType> | null = null;

export function loadChart(): Promise<typeof ChartType> {
  loading ??= import('./chartSetup').then((module) => module.Chart);
  return loading;
}
