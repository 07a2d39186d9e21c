export { MariadbNotInstalledError, MARIADB_INSTALL_COMMAND, findMariadbd, templateDataDir } from './lib/install';
export type { MariadbBinaries } from './lib/install';
export { MariaServer } from './lib/server';
export type { MariaServerOptions, QueryOptions } from './lib/server';
export { createReplicationUser, configureReplica, replicaStatus, waitForReplicaCatchUp } from './lib/replication';
export type { ReplicaOptions } from './lib/replication';
export { findMariadbdPids, nextFreePort, pidAlive, sendSignal, sleep, waitFor } from './lib/util';
export { AdminLoginEnv, runAsAdmin } from './lib/admin';
export type { AdminStatement } from './lib/admin';
