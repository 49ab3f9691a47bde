// The workflows bundle's entry: every workflow type the orchestrator worker registers.
export { flowInterpreter } from './interpreter';
export { dataRetention } from './retention';
