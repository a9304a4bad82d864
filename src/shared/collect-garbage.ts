/**
 * A full garbage collection, on demand. V8 sizes its heap by the machine: on a large one it lets
 * the garbage of transforming a big table pile up to gigabytes before collecting it, while what
 * is alive stays small (one chunk of rows). Loading a 1M-row table would then look like it needs
 * a gigabyte, next to Postgres on a 4 GB droplet. Collecting between chunks keeps the resident
 * memory near what is alive, for a few tens of milliseconds per chunk of tens of thousands of rows.
 *
 * `gc` is exposed at run time (the documented `--expose-gc` flag, set with v8.setFlagsFromString
 * and picked up by a new context), so no one has to start Node with heap flags.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null = null;

export function collectGarbage(): void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
}
