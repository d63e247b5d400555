/** @polycloud/cli — the `polycloud` command. Programmatic entry: `main(argv)` resolves to the exit code. */
export { buildProgram, main } from './main.js';
export {
  type Provisioner,
  type ProvisionOptions,
  provisionerFor,
  type ResourceKind,
  type ResourceState,
} from './provision/index.js';
export { EXIT } from './util.js';
