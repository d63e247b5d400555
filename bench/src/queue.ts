import type { BenchSettings } from './common.js';
import type { Row } from './results.js';
export const QUEUE_PROVIDERS: Record<string, (s: BenchSettings) => Promise<Row[]>> = {};
