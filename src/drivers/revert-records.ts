// The revert records live with the fault catalogue (src/core/faults/revert-record.ts); this module
// keeps the drivers' and older callers' import path.

export {
  combinedRevertRecord,
  compositeRevertRecord,
  describeRevert,
  flattenRevertRecord,
  parseRevertRecord,
  removeToxicRecord,
  replayRevert,
  replayRevert as revertFromRecord,
  replicaStartRecord,
  replicaUnpauseRecord,
  restoreConfigRecord,
  restoreToxicRecord,
  sentinelRestartNodeRecord,
  setEnabledRecord,
  sha256,
  type RevertDrivers,
} from '../core/faults/revert-record.js';
