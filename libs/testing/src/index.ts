export { startTopology, sweepStaleTopologies, TOPOLOGY_DIR_PREFIX } from './lib/topology';
export type { TestTopology, TopologyOptions } from './lib/topology';
export { workspaceRoot } from './lib/workspace';
export { nextFreePort, nextFreePort as freePort } from '@vita/mariadb';
export { sampleResume } from './lib/sample';
export { installBundle, waitForStatus, DEV_ONLY_PACKAGES } from './lib/bundle';
