import type * as V8 from 'node:v8';
import type * as Vm from 'node:vm';

let collect: (() => void) | undefined | null;

function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      (require('node:v8') as typeof V8).setFlagsFromString('--expose-gc');
      collect = (require('node:vm') as typeof Vm).runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/**
 * Keeps a long streaming run's heap near its live size. V8 lets old space
 * fill with garbage up to a multiple of the live data before it collects, and
 * chunk texts of deep trees are large objects that go straight there: a
 * million-entry scan whose live heap is 15 MB reached 190-250 MB RSS. A full
 * collection once the heap passes `limit` costs a few milliseconds (the live
 * set is small) and keeps the peak under the 200 MB budget. Returns the check
 * to call now and then; it looks at the heap at most every `every` calls.
 */
export function heapGuard(limit = 96 << 20, every = 64): () => void {
  let calls = 0;
  // node:v8 takes 6 ms to load: not before a run is long enough to need it.
  let v8: typeof V8 | undefined;
  return () => {
    if (++calls < every) return;
    calls = 0;
    v8 ??= require('node:v8') as typeof V8;
    if (v8.getHeapStatistics().total_heap_size < limit) return;
    collector()?.();
  };
}
