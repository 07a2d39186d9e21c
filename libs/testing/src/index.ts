export { startTopology, sweepStaleTopologies, TOPOLOGY_DIR_PREFIX } from './lib/topology';
export type { TestTopology, TopologyOptions } from './lib/topology';
export { nextFreePort } from '@vita/mariadb';
