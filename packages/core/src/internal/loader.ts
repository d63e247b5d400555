// The module loader lives apart from open.ts so that adapters (through @polycloud/core/driver)
// can reach setModuleLoader without loading Bucket, Queue and KvStore at start-up.

/** Test seam and extension point: load a module by specifier. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;
let loader: ModuleLoader = (s) => import(s);

/** Replaces how adapter modules are loaded (bundlers, tests). Returns the previous loader. */
export function setModuleLoader(next: ModuleLoader): ModuleLoader {
  const prev = loader;
  loader = next;
  return prev;
}

/** Loads an adapter module through the current loader. */
export function loadModule(specifier: string): Promise<unknown> {
  return loader(specifier);
}
