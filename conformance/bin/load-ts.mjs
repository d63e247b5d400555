// Loads a TypeScript module of the harness through tsx (pinned devDependency of @polycloud/conformance).
export async function importTs(relative) {
  let api;
  try {
    api = await import('tsx/esm/api');
  } catch {
    console.error('tsx is not installed: run `npm ci` at the repository root first.');
    process.exit(2);
  }
  return api.tsImport(relative, import.meta.url);
}
