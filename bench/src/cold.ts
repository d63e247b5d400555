import type { BenchSettings } from './common.js';
import type { Row } from './results.js';
export async function coldRows(_s: BenchSettings): Promise<Row[]> {
  return [];
}
